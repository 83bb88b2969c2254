import ArgumentParser
import Console
import Foundation

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the operations console (queues, workers, dead letters, retries, booking timelines, audit) on console.port.",
        subcommands: [ConsoleServeCommand.self, HashPasswordCommand.self],
        defaultSubcommand: ConsoleServeCommand.self)
}

struct ConsoleServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the console (the default).")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        try await RoleRunner.run(role: "console", configuration: configuration) { role in
            try buildConsoleServices(configuration: configuration, redis: role.redis, logger: role.logger)
        }
    }
}

struct HashPasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Read a password on standard input and print its bcrypt hash, for BXT_CONSOLE_USERS (name:hash).")

    func run() async throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("give the password on standard input")
        }
        print(consolePasswordHash(line))
    }
}
