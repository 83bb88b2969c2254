import ArgumentParser

@main
struct BooxiTracking: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booxi-tracking",
        abstract: "A self-hosted, branded appointment tracking page on top of Booxi.",
        discussion: """
            One executable, one subcommand per role, so each role scales on its own. Every role reads
            config/default.json, then the file given with --config, then BXT_* environment variables;
            secrets come from BOOXI_PARTNER_API_KEY, BXT_WEBHOOK_TOKENS, BXT_WEBHOOK_SIGNING_SECRETS and
            BXT_OAUTH_CLIENT_SECRET (or the file named by the same variable with _FILE appended).
            """,
        subcommands: [
            IngressCommand.self, WorkerCommand.self, APICommand.self, ConsoleCommand.self, SimulatorCommand.self, DevCommand.self,
            AdminCommand.self,
        ]
    )
}

/// Options every role shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "A JSON file whose keys override config/default.json.")
    var config: String?
}
