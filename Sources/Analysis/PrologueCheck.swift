// Recognises routines whose first bytes were patched to return at once: the classic way to blind a
// callback without unregistering it (the registration stays, the routine does nothing).

import BinaryReading

/// Patterns of an immediately returning routine (x86/x64 encodings, Intel SDM).
public enum PrologueCheck {
  /// A matched pattern: its name and the bytes that matched.
  public struct Match: Sendable, Equatable {
    public var pattern: String
    public var bytes: [UInt8]
  }

  /// (name, bytes) of return-at-once sequences, longest first so the most specific wins.
  static let patterns: [(String, [UInt8])] = [
    ("mov rax, 1; ret", [0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, 0xc3]),
    ("mov eax, 1; ret", [0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3]),
    ("mov eax, 0; ret", [0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3]),
    ("xor rax, rax; ret", [0x48, 0x31, 0xc0, 0xc3]),
    ("xor rax, rax; ret", [0x48, 0x33, 0xc0, 0xc3]),
    ("xor eax, eax; ret", [0x33, 0xc0, 0xc3]),
    ("xor eax, eax; ret", [0x31, 0xc0, 0xc3]),
    ("mov al, 1; ret", [0xb0, 0x01, 0xc3]),
    ("ret imm16", [0xc2]),
    ("nop; ret", [0x90, 0xc3]),
    ("ret", [0xc3]),
  ]

  /// Alignment padding compilers put after a function (int3, nop, zero).
  static let padding: Set<UInt8> = [0xcc, 0x90, 0x00]

  /// The return-at-once pattern `bytes` start with, if any. A genuine stub (a function that is only
  /// `ret`) is followed by alignment padding; a patched prologue is followed by what is left of the
  /// original instructions. So only a return followed by non-padding bytes counts.
  public static func match(_ bytes: [UInt8]) -> Match? {
    for (name, pattern) in patterns where bytes.starts(with: pattern) {
      let length = name == "ret imm16" ? 3 : pattern.count
      let rest = bytes.dropFirst(length).prefix(4)
      guard !rest.isEmpty, !rest.allSatisfy({ padding.contains($0) }) else { return nil }
      return Match(pattern: name, bytes: Array(bytes.prefix(length)))
    }
    return nil
  }
}
