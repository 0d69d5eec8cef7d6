// KernelVersion's one-pass parser against the grammar it replaced (`split(".")` + `Int(_:)`):
// fixed cases, then seeded random strings over the characters that matter.

import ImageBuilder
import Symbols
import Testing

@Suite struct KernelVersionTests {
  /// The parser KernelVersion had before the one-pass one: the reference grammar.
  static func reference(_ text: String) -> [Int]? {
    let numbers = text.split(separator: ".").map { Int($0) }
    guard numbers.count >= 2, numbers.count <= 4, numbers.allSatisfy({ $0 != nil }) else { return nil }
    var p = numbers.compactMap { $0 }
    while p.count < 4 { p.append(0) }
    return p
  }

  @Test(arguments: [
    "10.0.19041.1415", "10.0.19041", "6.1", "10", "", ".", "10..0", ".10.0.", "10.0.19041.1415.1", "10.x",
    "+10.0", "-1.2", "1.-", "1.+", "1-2.3", " 10.0", "10.0 ", "9223372036854775807.1", "9223372036854775808.1",
    "-9223372036854775808.0", "-9223372036854775809.0", "٣.٤",
  ])
  func fixedCasesMatchTheReference(_ text: String) {
    #expect(KernelVersion(text)?.parts == Self.reference(text), "\(text)")
  }

  @Test func seededStringsMatchTheReference() {
    let seed: UInt64 = 0x1104_1041
    var g = SeededGenerator(seed: seed)
    let alphabet = Array("0123456789....+-x 9")
    for _ in 0..<5_000 {
      let length = Int(g.next() % 24)
      let text = String((0..<length).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
      #expect(KernelVersion(text)?.parts == Self.reference(text), "seed \(seed): \(text)")
    }
  }
}
