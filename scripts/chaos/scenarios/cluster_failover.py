"""cluster-failover: a Redis Cluster primary is killed under load; its replica takes over."""
import tempfile
import time
from pathlib import Path

from harness import ClusterSet, Load, System, check, row

QUEUE_KEY = "bxt:{q}:webhooks"  # queue shard 0's list: its primary is the one killed
SHARDS = 3
# Jobs anywhere in the queues of every shard, on one primary: waiting, delayed, held by a lane.
LEFT_SCRIPT = ("local n=0 for _,k in ipairs(redis.call('KEYS',ARGV[1])) do local t=redis.call('TYPE',k)['ok'] "
               "if t=='list' then n=n+redis.call('LLEN',k) elseif t=='zset' then n=n+redis.call('ZCARD',k) end end return n")


def drained(cluster):
    patterns = ("bxt:{q*}:webhooks", "bxt:{q*}:commands", "bxt:{q*}:delayed", "bxt:{q*}:processing:*")
    return sum(int(cluster.cli("EVAL", LEFT_SCRIPT, 0, pattern, port=port) or 0)
               for port in cluster.primary_ports() for pattern in patterns) == 0


def run(short):
    """200 webhooks/s through the ingress onto a 3-primary, 3-replica Redis Cluster, with
    ingress.replicaAcks 1 and three queue shards (one per primary), while the primary that holds
    queue shard 0 is killed with SIGKILL: the other shards go on, that one's pushes wait for its
    replica.
    Its replica takes over, the old primary is restarted and rejoins as its replica; the ingress and
    the worker follow without a restart, and no acknowledged webhook is missing."""
    cluster = ClusterSet(Path(tempfile.mkdtemp(prefix="bxt-chaos-cluster-")) / "redis")
    system = System(env={"BXT_REDIS_CLUSTER_SEEDS": cluster.seeds, "BXT_REDIS_URL": "redis://cluster-managed/0",
                         "BXT_INGRESS_REPLICA_ACKS": "1", "BXT_QUEUE_SHARDS": str(SHARDS)})
    system.procs["redis"].kill()  # System's own server is not used here
    try:
        system.start_roles("ingress")
        system.start_worker("w0")
        victim = cluster.primary_port_of(QUEUE_KEY)
        with Load(system, 200, "cf") as load:
            time.sleep(3)
            cluster.kill(victim)
            killed_at = time.time()
            # Restarted once its replica was promoted (as a supervisor would), the old primary
            # rejoins as the new one's replica; until then no push can be acknowledged by a replica.
            deadline = killed_at + 30
            while time.time() < deadline and cluster.primary_port_of(QUEUE_KEY) in (None, victim):
                time.sleep(0.1)
            promoted_s = round(time.time() - killed_at, 1)
            cluster.restart(victim)
            time.sleep(8 if short else 30)
        with load.lock:
            first_ok = next((at for at, status in load.timeline if status == 200 and at > killed_at), None)
        cluster.wait_healthy()
        promoted = cluster.primary_port_of(QUEUE_KEY)
        # Every shard's queues, on the primaries that hold them now.
        system.wait(lambda: drained(cluster), 60)
        # On a Cluster the code keys spread over every primary (bxt:code:{<code>}).
        mapped_keys = cluster.keys("bxt:code:{cf*")
        missing = [code for code in load.acked if f"bxt:code:{{{code}}}" not in mapped_keys]
        mapped = len(mapped_keys)
        restarted = [name for name in ("ingress", "w0") if system.procs[name].poll() is not None]
        row("cluster-failover", queue_shards=SHARDS, sent=load.sent, acknowledged=len(load.acked), status_503=load.statuses.get(503, 0),
            errors=load.statuses.get("error", 0), promoted_after_s=promoted_s, first_200_after_kill_s=round(first_ok - killed_at, 1) if first_ok else None,
            acknowledged_missing=len(missing), mapped=mapped, new_primary=promoted not in (None, victim), roles_exited=restarted)
        check("cluster-failover", promoted not in (None, victim), "no replica took over the queue's slot")
        check("cluster-failover", first_ok is not None, "no 200 after the kill")
        check("cluster-failover", not restarted, f"roles exited: {restarted}")
        check("cluster-failover", not missing, f"{len(missing)} acknowledged webhooks lost with replicaAcks 1")
    finally:
        system.stop()
        cluster.stop()
