/// What a Cluster node's error reply asks of the client (the Cluster specification's
/// "Redirection and resharding" and its transient errors).
enum ClusterRedirect: Equatable {
    /// `MOVED slot host:port`: the slot lives there now; update the map and resend.
    case moved(slot: Int, to: RedisConfiguration.Endpoint)
    /// `ASK slot host:port`: this one command goes there, after `ASKING`; the map stays.
    case ask(slot: Int, to: RedisConfiguration.Endpoint)
    /// `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`: not run; resend after a pause.
    case tryAgain

    init?(_ reply: RedisReply, queried: RedisConfiguration.Endpoint) {
        guard let message = reply.errorMessage else { return nil }
        if message.hasPrefix("MOVED ") || message.hasPrefix("ASK ") {
            let parts = message.split(separator: " ")
            guard parts.count == 3, let slot = Int(parts[1]) else { return nil }
            let to: RedisConfiguration.Endpoint
            if parts[2].hasPrefix(":"), !parts[2].dropFirst().contains(":") {
                // `MOVED 3999 :6381`: an empty host means the host we asked (`::1:6381` is IPv6).
                guard case .tcp(let host, _) = queried, let port = Int(parts[2].dropFirst()), (1...65535).contains(port) else { return nil }
                to = .tcp(host: host, port: port)
            } else {
                guard let address = RedisConfiguration.Endpoint(hostPort: String(parts[2])) else { return nil }
                to = address
            }
            self = message.hasPrefix("MOVED") ? .moved(slot: slot, to: to) : .ask(slot: slot, to: to)
            return
        }
        for transient in ["TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "LOADING"] where message.hasPrefix(transient) {
            self = .tryAgain
            return
        }
        return nil
    }
}
