// End-to-end steps run real deploys: minutes, not the default 5 seconds.
jest.setTimeout(10 * 60 * 1000);
