// The one QEMU launcher of the tests: a qemu-system-x86_64 with its gdbstub on a free 127.0.0.1 port
// (the trace and GDB client tests talk to the stub; the watch tests add a RAM backend file and QMP),
// started stopped (-S) unless asked otherwise, no devices; ended by `stop()` or `kill()` (call one in
// a defer; deinit stops it too).

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A running `qemu-system-x86_64` with a gdbstub.
public final class GDBStubGuest: @unchecked Sendable {
  /// The gdbstub's port on 127.0.0.1.
  public let port: UInt16
  /// The accelerator QEMU runs with (`tcg` or `kvm`).
  public let accelerator: String
  let process: Process
  let errorPipe: Pipe

  /// Starts QEMU with `arguments` after the common ones (`-machine MACHINE,accel=ACCEL -m MEMORY
  /// -nographic -nodefaults -S -gdb tcp:127.0.0.1:PORT`), and waits up to `seconds` until `ready`
  /// holds: by default, until the stub accepts a connection. A probe of the stub pauses a running
  /// guest (QEMU stops the VM when a debugger attaches), so a test that needs it running gives its
  /// own `ready` (e.g. QMP answering). A port taken between choosing and QEMU's bind (another test's
  /// guest) is retried with a new one.
  public init(
    machine: String = "pc", accelerator: String = "tcg", memory: String = "64M", arguments: [String] = [],
    stopped: Bool = true, seconds: Double = 20, ready: ((_ port: UInt16) -> Bool)? = nil
  ) throws {
    let qemu = try TestData.which("qemu-system-x86_64")
    self.accelerator = accelerator
    var attempt = 0
    while true {
      attempt += 1
      let port = try LoopbackPort.free()
      let process = Process()
      let errorPipe = Pipe()
      process.executableURL = URL(fileURLWithPath: qemu)
      process.arguments =
        [
          "-machine", "\(machine),accel=\(accelerator)", "-m", memory, "-nographic", "-nodefaults", "-display",
          "none",
        ]
        + (stopped ? ["-S"] : []) + ["-gdb", "tcp:127.0.0.1:\(port)", "-monitor", "none", "-serial", "none"]
        + arguments
      process.standardOutput = FileHandle.nullDevice
      process.standardError = errorPipe
      process.standardInput = FileHandle.nullDevice
      try process.run()
      switch Self.wait(process, errorPipe, seconds: seconds, until: { ready?(port) ?? LoopbackPort.accepts(port) }) {
      case .ready:
        self.port = port
        self.process = process
        self.errorPipe = errorPipe
        return
      case .exited(let status, let message):
        if attempt < 4, message.contains("in use") || message.contains("bind") { continue }
        throw TestDataError.tool("qemu-system-x86_64 exited (\(status)): \(message)")
      case .silent:
        Self.end(process)
        throw TestDataError.tool(
          "qemu-system-x86_64 (gdbstub 127.0.0.1:\(port)) was not ready within \(Int(seconds)) s")
      }
    }
  }

  /// `kvm` when /dev/kvm can be opened, else `tcg`.
  public static func fastestAccelerator() -> String {
    let kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)
    guard kvm >= 0 else { return "tcg" }
    close(kvm)
    return "kvm"
  }

  enum StubWait { case ready, exited(Int32, String), silent }

  /// Waits until `ready` holds (QEMU opens the stub once the machine is created, before it runs).
  static func wait(_ process: Process, _ errorPipe: Pipe, seconds: Double, until ready: () -> Bool) -> StubWait {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if !process.isRunning {
        let message = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return .exited(process.terminationStatus, message)
      }
      if ready() { return .ready }
      usleep(50_000)
    }
    return .silent
  }

  /// `127.0.0.1:PORT`.
  public var address: String { "127.0.0.1:\(port)" }

  /// Whether QEMU is still running.
  public var isRunning: Bool { process.isRunning }

  /// QEMU's process id (for /proc/PID/…).
  public var processIdentifier: Int32 { process.processIdentifier }

  /// Ends QEMU (SIGKILL after a SIGTERM grace of 2 s) and waits for it.
  public func stop() { Self.end(process) }

  /// Ends QEMU at once (SIGKILL: no shutdown of its own, as when it crashes) and waits for it.
  public func kill() {
    guard process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  /// SIGTERM, then SIGKILL after 2 s; waits for the exit.
  static func end(_ process: Process) {
    guard process.isRunning else { return }
    process.terminate()
    let deadline = Date().addingTimeInterval(2)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }

  deinit { stop() }

  /// A port nobody listens on now, outside the ephemeral range (see LoopbackPort).
  public static func freePort() throws -> UInt16 { try LoopbackPort.free() }
}
