module edirunbook.local/smoke

go 1.24
