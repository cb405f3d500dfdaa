module conductor.local/examples/hello

go 1.26
