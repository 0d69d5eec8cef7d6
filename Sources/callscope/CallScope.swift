// The `callscope` command: a thin layer over the library targets.

import ArgumentParser

@main
struct CallScope: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "callscope",
    abstract: "List every callback a Windows kernel will call, from a memory image.",
    subcommands: [])
}
