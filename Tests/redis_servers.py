"""Real redis-server, redis-sentinel and openssl for the pytest suites: test certificates, a TLS
server, a primary with a replica under three sentinels, all on loopback ports."""
import os
import subprocess
import time
from pathlib import Path

from local_processes import free_port, stop  # noqa: F401  (stop: re-exported for the suites)

CA_CONFIG = """[ ca ]
default_ca = local
[ local ]
database = index.txt
unique_subject = no
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
[ anything ]
commonName = supplied
"""


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path):
    """A CA, a server certificate for localhost (no IP address: NIOSSL accepts a certificate whose IP
    address entry matches the peer whatever the name asked for), a client certificate, an expired
    server certificate from the same CA, and an unrelated CA."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.cnf").write_text(CA_CONFIG)
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("01\n")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "2",
                "-subj", f"/CN={ca}", cwd=directory)
    for name, subject, extension in (("server", "/CN=localhost", "subjectAltName=DNS:localhost"),
                                     ("client", "/CN=booxi-tracking", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
                "-addext", extension, cwd=directory)
        openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", f"{name}.csr",
                "-out", f"{name}.crt", "-days", "2", "-notext", cwd=directory)
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "server.csr",
            "-out", "expired.crt", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext", cwd=directory)
    return directory


def wait_ping(port, tls_args=(), timeout=15, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis on {port} exited")
        result = subprocess.run(["redis-cli", "-p", str(port), *tls_args, "ping"], capture_output=True, text=True)
        if result.stdout.strip() == "PONG":
            return
        time.sleep(0.05)
    raise RuntimeError(f"redis on {port} did not answer")


def start_redis(directory: Path, *args, tls=None, name="redis"):
    """A redis-server on a free port (`--port`), or with `tls` (certificate, key, CA, require
    clients) on a TLS port and no plain port. Returns (process, port). A port taken between
    choosing it and binding it (other suites open thousands of connections) means another port."""
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(5):
        port = free_port()
        command = ["redis-server", "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly", "no"]
        tls_args = ()
        if tls:
            certificate, key, ca, require = tls
            command += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(certificate), "--tls-key-file", str(key),
                        "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "yes" if require else "no"]
            # Readiness only (the expired certificate must still come up): redis-cli does not verify.
            tls_args = ("--tls", "--insecure", "--cert", str(tls[0].parent / "client.crt"), "--key", str(tls[0].parent / "client.key"))
        else:
            command += ["--port", str(port)]
        process = subprocess.Popen(command + list(args), stdout=open(directory / f"{name}.log", "w"), stderr=subprocess.STDOUT)
        try:
            wait_ping(port, tls_args, process=process)
            return process, port
        except RuntimeError:
            stop([process])
            if attempt == 4:
                raise RuntimeError(f"redis-server did not start: {(directory / f'{name}.log').read_text()[-1000:]}") from None


class SentinelSet:
    """One primary, one replica, three sentinels (quorum 2), failing over within about 2 s."""

    def __init__(self, directory: Path, master="bxt-primary"):
        self.directory = directory
        self.master = master
        self.processes = {}
        primary, self.primary_port = start_redis(directory / "primary", name="primary")
        replica, self.replica_port = start_redis(directory / "replica", "--replicaof", "127.0.0.1", "0", name="replica")
        subprocess.run(["redis-cli", "-p", str(self.replica_port), "replicaof", "127.0.0.1", str(self.primary_port)], check=True,
                       capture_output=True)
        self.processes["primary"], self.processes["replica"] = primary, replica
        self.sentinel_ports = []
        for index in range(3):
            port = free_port()
            folder = directory / f"sentinel-{index}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "sentinel.conf").write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {master} 127.0.0.1 {self.primary_port} 2\n"
                f"sentinel down-after-milliseconds {master} 1000\n"
                f"sentinel failover-timeout {master} 5000\n"
                f"sentinel parallel-syncs {master} 1\n")
            self.processes[f"sentinel-{index}"] = subprocess.Popen(
                ["redis-sentinel", str(folder / "sentinel.conf")], stdout=open(folder / "sentinel.log", "w"), stderr=subprocess.STDOUT)
            self.sentinel_ports.append(port)
        for port in self.sentinel_ports:
            wait_ping(port)
        self.wait_replicated()

    @property
    def sentinels(self):
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def current_primary_port(self):
        for port in self.sentinel_ports:
            result = subprocess.run(["redis-cli", "-p", str(port), "sentinel", "get-master-addr-by-name", self.master],
                                    capture_output=True, text=True)
            lines = result.stdout.split()
            if len(lines) == 2:
                return int(lines[1])
        return None

    def wait_replicated(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = subprocess.run(["redis-cli", "-p", str(self.primary_port), "info", "replication"], capture_output=True, text=True).stdout
            sentinel_knows = subprocess.run(["redis-cli", "-p", str(self.sentinel_ports[0]), "sentinel", "replicas", self.master],
                                            capture_output=True, text=True).stdout
            if "connected_slaves:1" in info and "state=online" in info and str(self.replica_port) in sentinel_knows:
                return
            time.sleep(0.1)
        raise RuntimeError("the replica did not come online under the sentinels")

    def kill_primary(self):
        self.processes["primary"].kill()
        self.processes["primary"].wait()

    def stop(self):
        stop(self.processes.values())


class ClusterSet:
    """A Redis Cluster on loopback: three primaries with a replica each (`redis-server
    --cluster-enabled yes`, joined by `redis-cli --cluster create`), a failed node noticed within
    1 s, so a killed primary's replica takes over in about two seconds."""

    def __init__(self, directory: Path, primaries=3, certificates=None):
        """With `certificates` (make_certificates' folder), every node speaks TLS only, on its
        clients' port, its cluster bus and its replication, and requires client certificates."""
        self.processes = {}
        self.ports = []
        self.arguments = {}
        tls = (certificates / "server.crt", certificates / "server.key", certificates / "ca.crt", True) if certificates else None
        self.tls_args = ("--tls", "--insecure", "--cert", str(certificates / "client.crt"), "--key", str(certificates / "client.key")) \
            if certificates else ()
        for index in range(primaries * 2):
            folder = directory / f"node-{index}"
            # The bus port defaults to the port + 10000, past 65535 for a high free port.
            arguments = ["--cluster-enabled", "yes", "--cluster-config-file", str(folder / "nodes.conf"), "--cluster-port",
                         str(free_port()), "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0"]
            if certificates:
                arguments += ["--tls-cluster", "yes", "--tls-replication", "yes"]
            process, port = start_redis(folder, *arguments, tls=tls, name=f"node-{index}")
            self.processes[port] = process
            self.ports.append(port)
            self.arguments[port] = (folder, arguments)
        subprocess.run(["redis-cli", *self.tls_args, "--cluster", "create", *[f"127.0.0.1:{port}" for port in self.ports],
                        "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True)
        self.wait_healthy()

    @property
    def seeds(self):
        return ",".join(f"127.0.0.1:{port}" for port in self.ports[:3])

    def live_ports(self):
        return [port for port, process in self.processes.items() if process.poll() is None]

    def cli(self, *args, port=None):
        result = subprocess.run(["redis-cli", "-p", str(port or self.live_ports()[0]), *self.tls_args, *map(str, args)], capture_output=True,
                                text=True)
        return result.stdout.strip()

    def primary_port_of(self, key):
        """The port of the primary that serves `key`'s slot, as a live node's CLUSTER NODES says
        (a line per node: id, ip:port@bus, flags, primary, ping, pong, epoch, link, slot ranges)."""
        slot = int(self.cli("CLUSTER", "KEYSLOT", key))
        for line in self.cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            if len(fields) < 9 or "master" not in fields[2].split(",") or "fail" in fields[2].split(","):
                continue
            for served in fields[8:]:
                if served.startswith("["):
                    continue  # a slot being migrated or imported
                first, _, last = served.partition("-")
                if int(first) <= slot <= int(last or first):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        return None

    def primary_ports(self):
        """The ports of the live primaries that serve slots, as a live node's CLUSTER NODES says."""
        ports = []
        for line in self.cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            flags = fields[2].split(",") if len(fields) > 2 else []
            if len(fields) >= 9 and "master" in flags and "fail" not in flags:
                ports.append(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
        return ports

    def keys(self, pattern):
        """Every key matching `pattern` on the primaries (`KEYS` on each: for tests only)."""
        found = set()
        for port in self.primary_ports():
            found |= set(filter(None, self.cli("EVAL", "return redis.call('KEYS', ARGV[1])", 0, pattern, port=port).splitlines()))
        return found

    def kill(self, port):
        self.processes[port].kill()
        self.processes[port].wait()

    def restart(self, port):
        """Starts a killed node again on its port, as a supervisor would: empty (no persistence
        here), it rejoins from its nodes.conf as a replica of whichever node took over."""
        folder, arguments = self.arguments[port]
        self.processes[port] = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "no", "--port", str(port),
             *arguments], stdout=open(folder / "restarted.log", "w"), stderr=subprocess.STDOUT)
        wait_ping(port, process=self.processes[port])

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all("cluster_state:ok" in self.cli("CLUSTER", "INFO", port=port) and "cluster_slots_ok:16384" in self.cli("CLUSTER", "INFO", port=port)
                   for port in self.live_ports()):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not become healthy")

    def stop(self):
        stop(self.processes.values())
