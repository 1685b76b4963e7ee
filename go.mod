module github.com/triagekit/triage

go 1.25.0

require (
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.47.0
)

require (
	github.com/shirou/gopsutil/v4 v4.26.8 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
