// The suite's own webhook receiver for Alertmanager (main.go): the standard library only.
module edirunbook.local/alert-receiver

go 1.26.0
