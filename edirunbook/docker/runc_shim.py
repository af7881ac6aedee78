#!/usr/bin/python3
"""OCI runtime shim: drop capabilities the host cannot grant, then exec the real runc.

dockerd runs this in place of runc. On hosts whose capability bounding set lacks
some capabilities (CAP_SYS_RESOURCE here), a privileged container asks for all of
them and runc fails with "unable to apply caps". Removing what the host does not
hold from the bundle's config.json (create/run) or the --process file (exec) lets
privileged containers, and so kind nodes, start. Only the standard library is used:
this file runs under the system python3, outside the project's virtualenv.
"""
import json
import os
import sys

REAL_RUNC = os.environ.get("EDIRUNBOOK_REAL_RUNC", "/usr/sbin/runc")
CAP_NAMES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]


def bounding_set() -> set:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                return {"CAP_" + n for i, n in enumerate(CAP_NAMES) if mask >> i & 1}
    return set()


def filter_caps(process: dict, allowed: set) -> bool:
    caps = process.get("capabilities") or {}
    changed = False
    for kind, names in caps.items():
        if isinstance(names, list):
            kept = [n for n in names if n in allowed]
            changed |= len(kept) != len(names)
            caps[kind] = kept
    return changed


def rewrite(path: str, nested: bool) -> None:
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return
    process = doc.get("process", {}) if nested else doc
    if filter_caps(process, bounding_set()):
        with open(path, "w") as f:
            json.dump(doc, f)


def option(args: list, name: str) -> "str | None":
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def main(args: list) -> None:
    command = next((a for a in args if a in ("create", "run", "exec")), None)
    if command in ("create", "run"):
        bundle = option(args, "--bundle") or option(args, "-b") or "."
        rewrite(os.path.join(bundle, "config.json"), nested=True)
    elif command == "exec":
        process = option(args, "--process") or option(args, "-p")
        if process:
            rewrite(process, nested=False)
    os.execv(REAL_RUNC, [REAL_RUNC] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
