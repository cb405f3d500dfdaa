#!/bin/bash
# The command of the fleet's registry container: the distribution registry
# (Debian's docker-registry) with this run's TLS certificate and htpasswd.
set -euo pipefail
exec docker-registry serve /fleet/run/registry.yml
