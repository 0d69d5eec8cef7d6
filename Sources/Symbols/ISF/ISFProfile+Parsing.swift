// Parsing of a Volatility 3 ISF document (schema-6.x: metadata, base_types, user_types, enums,
// symbols) straight from JSON tokens into the ISFProfile model, without an intermediate tree.
// Unknown keys are skipped, so newer minor versions of the format still load.

/// A one-pass ISF parser over a JSONReader.
struct ISFParser {
  /// How deeply type descriptions (pointer to array of pointer …) may nest.
  static let maximumTypeDepth = 64

  struct Result {
    var identity: PDBIdentity
    var format: String
    var machineType: Int?
    var symbols: [String: UInt64] = [:]
    var structs: [String: ISFStruct] = [:]
    var enums: [String: ISFEnum] = [:]
    var baseTypeSizes: [String: Int] = [:]
  }

  var reader: JSONReader

  private func invalid(_ message: String, at offset: Int) -> SymbolsError {
    .invalidISF(file: reader.file, offset: offset, message: message)
  }

  mutating func parseDocument() throws(SymbolsError) -> Result {
    var result = Result(identity: PDBIdentity(name: "", guid: "", age: 0), format: "")
    var sawMetadata = false
    var sawPDB = false
    try reader.beginObject("the ISF document")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      if reader.key(key, is: "metadata") {
        sawMetadata = true
        sawPDB = try parseMetadata(&result)
      } else if reader.key(key, is: "symbols") {
        try parseSymbols(&result)
      } else if reader.key(key, is: "user_types") {
        try parseUserTypes(&result)
      } else if reader.key(key, is: "enums") {
        try parseEnums(&result)
      } else if reader.key(key, is: "base_types") {
        try parseBaseTypes(&result)
      } else {
        try reader.skipValue()
      }
    }
    try reader.expectEnd()
    guard sawMetadata else { throw invalid("no `metadata` object", at: 0) }
    guard sawPDB else { throw invalid("no `metadata.windows.pdb` (GUID, age, database)", at: 0) }
    return result
  }

  /// `metadata`: format version and `windows.pdb`; returns whether the PDB identity was present.
  private mutating func parseMetadata(_ r: inout Result) throws(SymbolsError) -> Bool {
    var found = false
    try reader.beginObject("metadata")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      if reader.key(key, is: "format") {
        r.format = try reader.readString("metadata.format")
        let major = r.format.split(separator: ".").first.flatMap { Int($0) }
        guard let major, major >= 4, major <= 6 else {
          throw SymbolsError.unsupported(
            file: reader.file, what: "ISF format version \(r.format) (4.x to 6.x are read)")
        }
      } else if reader.key(key, is: "windows") {
        try reader.beginObject("metadata.windows")
        var f2 = true
        while let k2 = try reader.nextKey(first: &f2) {
          if reader.key(k2, is: "pdb") {
            try parsePDB(&r)
            found = true
          } else {
            try reader.skipValue()
          }
        }
      } else {
        try reader.skipValue()
      }
    }
    return found
  }

  private mutating func parsePDB(_ r: inout Result) throws(SymbolsError) {
    let at = reader.peekOffset()
    var guid: String?
    var age: Int64?
    var database: String?
    try reader.beginObject("metadata.windows.pdb")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      if reader.key(key, is: "GUID") {
        guid = try reader.readString("metadata.windows.pdb.GUID")
      } else if reader.key(key, is: "age") {
        age = try reader.readInt("metadata.windows.pdb.age")
      } else if reader.key(key, is: "database") {
        database = try reader.readString("metadata.windows.pdb.database")
      } else if reader.key(key, is: "machine_type") {
        r.machineType = Int(exactly: try reader.readInt("metadata.windows.pdb.machine_type"))
      } else {
        try reader.skipValue()
      }
    }
    guard let guid, let age, let database else {
      throw invalid("metadata.windows.pdb needs GUID, age and database", at: at)
    }
    let cleaned = guid.replacingOccurrences(of: "-", with: "").uppercased()
    guard cleaned.count == 32, cleaned.allSatisfy({ $0.isHexDigit }) else {
      throw invalid("metadata.windows.pdb.GUID `\(guid)` is not 32 hex digits", at: at)
    }
    guard let age32 = UInt32(exactly: age) else {
      throw invalid("metadata.windows.pdb.age \(age) out of range", at: at)
    }
    r.identity = PDBIdentity(name: database, guid: cleaned, age: age32)
  }

  private mutating func parseSymbols(_ r: inout Result) throws(SymbolsError) {
    // Volatility 3 writes roughly 150 bytes per symbol table entry; reserving avoids rehashing.
    r.symbols.reserveCapacity(min(reader.bytes.count / 150, 1 << 20))
    try reader.beginObject("symbols")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      let name = try reader.string(key)
      let at = reader.peekOffset()
      var address: Int64?
      try reader.beginObject("symbol \(name)")
      var f2 = true
      while let k2 = try reader.nextKey(first: &f2) {
        if reader.key(k2, is: "address") {
          address = try reader.readInt("symbols.\(name).address")
        } else {
          try reader.skipValue()
        }
      }
      guard let address else { throw invalid("symbol `\(name)` has no address", at: at) }
      // Volatility 3 stores addresses as non-negative integers; a negative one is corrupt.
      guard let rva = UInt64(exactly: address) else { throw invalid("symbol `\(name)` has address \(address)", at: at) }
      r.symbols[name] = rva
    }
  }

  private mutating func parseBaseTypes(_ r: inout Result) throws(SymbolsError) {
    try reader.beginObject("base_types")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      let name = try reader.string(key)
      let at = reader.peekOffset()
      var size: Int?
      try reader.beginObject("base type \(name)")
      var f2 = true
      while let k2 = try reader.nextKey(first: &f2) {
        if reader.key(k2, is: "size") {
          size = try reader.readCount("base_types.\(name).size")
        } else {
          try reader.skipValue()
        }
      }
      guard let size else { throw invalid("base type `\(name)` has no size", at: at) }
      r.baseTypeSizes[name] = size
    }
  }

  private mutating func parseEnums(_ r: inout Result) throws(SymbolsError) {
    try reader.beginObject("enums")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      let name = try reader.string(key)
      let at = reader.peekOffset()
      var e = ISFEnum(size: -1, base: "", constants: [:])
      try reader.beginObject("enum \(name)")
      var f2 = true
      while let k2 = try reader.nextKey(first: &f2) {
        if reader.key(k2, is: "size") {
          e.size = try reader.readCount("enums.\(name).size")
        } else if reader.key(k2, is: "base") {
          e.base = try reader.readString("enums.\(name).base")
        } else if reader.key(k2, is: "constants") {
          try reader.beginObject("enums.\(name).constants")
          var f3 = true
          while let k3 = try reader.nextKey(first: &f3) {
            e.constants[try reader.string(k3)] = try reader.readInt("a constant of enum \(name)")
          }
        } else {
          try reader.skipValue()
        }
      }
      guard e.size >= 0 else { throw invalid("enum `\(name)` has no size", at: at) }
      r.enums[name] = e
    }
  }

  private mutating func parseUserTypes(_ r: inout Result) throws(SymbolsError) {
    r.structs.reserveCapacity(min(reader.bytes.count / 4000, 1 << 18))
    try reader.beginObject("user_types")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      let name = try reader.string(key)
      let at = reader.peekOffset()
      var s = ISFStruct(kind: "struct", size: -1, fields: [:])
      var sawFields = false
      try reader.beginObject("user type \(name)")
      var f2 = true
      while let k2 = try reader.nextKey(first: &f2) {
        if reader.key(k2, is: "size") {
          s.size = try reader.readCount("user_types.\(name).size")
        } else if reader.key(k2, is: "kind") {
          s.kind = try reader.readString("user_types.\(name).kind")
        } else if reader.key(k2, is: "fields") {
          sawFields = true
          try parseFields(of: name, into: &s)
        } else {
          try reader.skipValue()
        }
      }
      guard s.size >= 0, sawFields else { throw invalid("user type `\(name)` needs size and fields", at: at) }
      r.structs[name] = s
    }
  }

  private mutating func parseFields(of structName: String, into s: inout ISFStruct) throws(SymbolsError) {
    try reader.beginObject("user_types.\(structName).fields")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      let name = try reader.string(key)
      let at = reader.peekOffset()
      var offset: Int?
      var type: ParsedType?
      try reader.beginObject("field \(structName).\(name)")
      var f2 = true
      while let k2 = try reader.nextKey(first: &f2) {
        if reader.key(k2, is: "offset") {
          offset = try reader.readCount("\(structName).\(name).offset")
        } else if reader.key(k2, is: "type") {
          type = try parseType(depth: 0)
        } else {
          try reader.skipValue()
        }
      }
      guard let offset, let type else { throw invalid("field `\(structName).\(name)` needs offset and type", at: at) }
      s.fields[name] = FieldInfo(
        offset: offset, type: type.type, bitPosition: type.bitPosition, bitLength: type.bitLength, provenance: .isf)
    }
  }

  /// A type description; bitfields carry their bit position and length beside the storage type.
  struct ParsedType {
    var type: FieldType
    var bitPosition: Int?
    var bitLength: Int?
  }

  /// Parses one type object. Recursion is bounded by `maximumTypeDepth`.
  private mutating func parseType(depth: Int) throws(SymbolsError) -> ParsedType {
    let at = reader.peekOffset()
    guard depth < Self.maximumTypeDepth else {
      throw invalid("type nested deeper than \(Self.maximumTypeDepth)", at: at)
    }
    var kind: String?
    var name: String?
    var count: Int?
    var bitPosition: Int?
    var bitLength: Int?
    var inner: ParsedType?
    try reader.beginObject("a type")
    var first = true
    while let key = try reader.nextKey(first: &first) {
      if reader.key(key, is: "kind") {
        kind = try reader.readString("type kind")
      } else if reader.key(key, is: "name") {
        name = try reader.readString("type name")
      } else if reader.key(key, is: "count") {
        count = try reader.readCount("array count")
      } else if reader.key(key, is: "bit_position") {
        bitPosition = try reader.readCount("bit_position")
      } else if reader.key(key, is: "bit_length") {
        bitLength = try reader.readCount("bit_length")
      } else if reader.key(key, is: "subtype") || reader.key(key, is: "type") {
        inner = try parseType(depth: depth &+ 1)  // depth < 64
      } else {
        try reader.skipValue()
      }
    }
    guard let kind else { throw invalid("type without `kind`", at: at) }
    switch kind {
    case "base":
      guard let name else { throw invalid("base type without `name`", at: at) }
      return ParsedType(type: .base(name: name, size: -1))
    case "pointer":
      guard let inner else { throw invalid("pointer without `subtype`", at: at) }
      return ParsedType(type: .pointer(to: inner.type, size: -1))
    case "array":
      guard let inner, let count else { throw invalid("array needs `count` and `subtype`", at: at) }
      return ParsedType(type: .array(of: inner.type, count: count))
    case "struct", "union", "class":
      guard let name else { throw invalid("\(kind) reference without `name`", at: at) }
      return ParsedType(type: .structure(name: name))
    case "enum":
      guard let name else { throw invalid("enum reference without `name`", at: at) }
      return ParsedType(type: .enumeration(name: name, size: -1))
    case "function":
      return ParsedType(type: .function)
    case "bitfield":
      guard let inner, let bitPosition, let bitLength else {
        throw invalid("bitfield needs `bit_position`, `bit_length` and `type`", at: at)
      }
      guard bitLength > 0, bitLength <= 64, bitPosition < 64 else {
        throw invalid("bitfield position \(bitPosition)/length \(bitLength) out of range", at: at)
      }
      return ParsedType(type: inner.type, bitPosition: bitPosition, bitLength: bitLength)
    default:
      return ParsedType(type: .unknown(kind))
    }
  }
}
