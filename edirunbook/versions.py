"""Pinned versions of everything the environment builds or runs, and why each was chosen."""

# Kubernetes 1.34: the newest minor whose kubelet still runs on cgroup v1 without `failCgroupV1: false`
# (these machines are cgroup v1), and the one kind v0.30.0 was released for. 1.34.4 is the newest
# 1.34 patch the Go module proxy serves here.
KUBERNETES = "v1.34.4"
# kind v0.30.0: the release built for Kubernetes 1.34; its node entrypoint still supports cgroup v1.
KIND = "v0.30.0"
# What kubeadm v1.34.4 asks for (`kubeadm config images list`): etcd 3.6.5-0, CoreDNS v1.12.1, pause 3.10.1.
ETCD = "v3.6.5"
ETCD_IMAGE_TAG = "3.6.5-0"
COREDNS = "v1.12.1"
PAUSE = "3.10.1"
# crictl matching the Kubernetes minor (kind uses it inside nodes for `kind load`).
CRICTL = "v1.34.0"
# The official node image kind v0.30.0 defaults to, used where a registry is reachable.
KINDEST_NODE = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
# Debian 12: what these machines run; its MariaDB 10.11 and Python 3.11 serve the database and Bots EDI.
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# The official MySQL image where a registry is reachable (the production database is MySQL 8).
MYSQL_IMAGE = "mysql:8.0"
# kube-score v1.20.0: the manifest linter `make manifest-lint` runs. Chosen because it builds from the Go module
# proxy here and checks offline (kube-linter is not served; kubeconform needs JSON schemas from GitHub).
KUBE_SCORE = "v1.20.0"
# Alertmanager from Debian bookworm's own package (the monitoring add-on's image, and amtool on the host for the
# routing tests in `make unit`): no compile, the version bookworm's mirror serves, exact so the image and the tests
# run the same build. (Prometheus is compiled from its module, images/addons/prometheus: Debian's 2.42 is built
# without Kubernetes service discovery.) A point release of bookworm replaces it; the build then says so.
ALERTMANAGER_DEB = "0.25.0-1+b4"
