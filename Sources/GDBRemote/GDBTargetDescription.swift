// The register layout a stub describes in its target description (GDB manual, "Target Descriptions"):
// `target.xml` read with `qXfer:features:read`, following `<xi:include href=…/>`, each `<reg>` with
// name, bitsize and an optional regnum (numbering continues from the previous register otherwise).

/// One register as the stub numbers it.
public struct GDBRegister: Sendable, Hashable {
  public var name: String
  /// The number `p`/`P` and stop replies use.
  public var number: Int
  public var bitSize: Int
  /// The `<feature name=…>` it belongs to (`org.gnu.gdb.i386.core`, …).
  public var feature: String
}

/// The stub's registers in number order.
public struct GDBRegisterLayout: Sendable, Hashable {
  public var architecture: String?
  public var registers: [GDBRegister]
  private var byName: [String: Int]

  public init(architecture: String?, registers: [GDBRegister]) {
    self.architecture = architecture
    self.registers = registers.sorted { $0.number < $1.number }
    var names: [String: Int] = [:]
    for (index, register) in self.registers.enumerated() where names[register.name] == nil {
      names[register.name] = index
    }
    byName = names
  }

  /// The register called `name` (as the description spells it: `rip`, `gs_base`, `cr3`).
  public func register(named name: String) -> GDBRegister? { byName[name].map { registers[$0] } }

  /// The features named by the description.
  public var features: Set<String> { Set(registers.map(\.feature)) }
}

/// A small reader of the target-description XML subset stubs send: elements and quoted attributes.
enum TargetDescriptionXML {
  /// What one document declares: registers (numbered later), includes, the architecture.
  struct Document {
    var architecture: String?
    /// In document order: a register (name, bitsize, regnum?, feature) or an include.
    var items: [Item] = []
  }

  enum Item {
    case register(name: String, bitSize: Int, number: Int?, feature: String)
    case include(String)
  }

  /// Parses `text`; throws a reason for a tag that is not closed or an attribute that is not quoted.
  static func parse(_ text: String) throws(PacketFormatError) -> Document {
    var document = Document()
    let chars = Array(text.utf8)
    var index = 0
    var feature = ""
    while index < chars.count {
      guard chars[index] == UInt8(ascii: "<") else {
        index += 1
        continue
      }
      // A comment may hold markup (QEMU comments out registers): skip to its end.
      if chars[index...].starts(with: Array("<!--".utf8)) {
        var end = index + 4
        while end + 2 < chars.count, !(chars[end] == 0x2D && chars[end + 1] == 0x2D && chars[end + 2] == 0x3E) {
          end += 1
        }
        guard end + 2 < chars.count else { throw PacketFormatError("comment at offset \(index) is not closed") }
        index = end + 3
        continue
      }
      guard let close = chars[index...].firstIndex(of: UInt8(ascii: ">")) else {
        throw PacketFormatError("tag at offset \(index) is not closed")
      }
      let tag = String(decoding: chars[(index + 1)..<close], as: UTF8.self)
      let tagEnd = close
      if tag.hasPrefix("architecture") {
        let contentEnd = chars[(tagEnd + 1)...].firstIndex(of: UInt8(ascii: "<")) ?? chars.count
        document.architecture = String(decoding: chars[(tagEnd + 1)..<contentEnd], as: UTF8.self)
      }
      let name = tag.prefix { $0 != " " && $0 != "/" && $0 != "\n" && $0 != "\t" }
      // Only the elements that carry the layout are parsed further (not <?xml?>, <!DOCTYPE>, closing tags).
      let attributes =
        ["feature", "reg", "xi:include"].contains(name) ? try Self.attributes(String(tag.dropFirst(name.count))) : [:]
      switch name {
      case "feature": feature = attributes["name"] ?? ""
      case "reg":
        guard let regName = attributes["name"], let bits = attributes["bitsize"].flatMap({ Int($0) }), bits > 0,
          bits <= 4096
        else {
          throw PacketFormatError("<reg> without a name or a bitsize in 1…4096: <\(tag.prefix(80))>")
        }
        var number: Int?
        if let text = attributes["regnum"] {
          guard let value = Int(text), value >= 0, value < 100_000 else {
            throw PacketFormatError("<reg name=\"\(regName)\"> regnum `\(text)` is not a number below 100000")
          }
          number = value
        }
        document.items.append(.register(name: regName, bitSize: bits, number: number, feature: feature))
      case "xi:include":
        guard let href = attributes["href"] else { throw PacketFormatError("<xi:include> without href") }
        document.items.append(.include(href))
      default: break
      }
      index = tagEnd + 1
    }
    return document
  }

  /// `key="value"` (or single quotes) pairs of a tag's text after its name.
  static func attributes(_ text: String) throws(PacketFormatError) -> [String: String] {
    var out: [String: String] = [:]
    let chars = Array(text.utf8)
    var index = 0
    while index < chars.count {
      while index < chars.count,
        chars[index] == 0x20 || chars[index] == 0x0A || chars[index] == 0x09
          || chars[index] == 0x0D || chars[index] == UInt8(ascii: "/") || chars[index] == UInt8(ascii: "?")
      {
        index += 1
      }
      guard index < chars.count else { break }
      let keyStart = index
      while index < chars.count, chars[index] != UInt8(ascii: "=") { index += 1 }
      guard index + 1 < chars.count else { throw PacketFormatError("attribute without a value in `\(text)`") }
      let key = String(decoding: chars[keyStart..<index], as: UTF8.self)
        .trimmingCharacters(in: [" ", "\n", "\t"])
      let quote = chars[index + 1]
      guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
        throw PacketFormatError("attribute `\(key)` is not quoted")
      }
      guard let end = chars[(index + 2)...].firstIndex(of: quote) else {
        throw PacketFormatError("attribute `\(key)` has no closing quote")
      }
      out[key] = String(decoding: chars[(index + 2)..<end], as: UTF8.self)
      index = end + 1
    }
    return out
  }
}

extension String {
  fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
    var s = Substring(self)
    while let first = s.first, set.contains(first) { s = s.dropFirst() }
    while let last = s.last, set.contains(last) { s = s.dropLast() }
    return String(s)
  }
}
