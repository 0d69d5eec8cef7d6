// Errors of the Disassembly target: the decoder could not be opened (a library problem, not input).

/// Why the disassembler could not start.
public enum DisassemblyError: Error, Sendable, CustomStringConvertible {
  /// Capstone refused to open a handle for the architecture (its error code).
  case capstoneUnavailable(architecture: String, code: UInt32)

  public var description: String {
    switch self {
    case .capstoneUnavailable(let architecture, let code):
      return "disassembler: Capstone could not open a \(architecture) decoder (cs_err \(code))"
    }
  }
}
