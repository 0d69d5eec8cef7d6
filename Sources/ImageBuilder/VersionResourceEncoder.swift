// Encodes VS_VERSIONINFO: the VS_FIXEDFILEINFO block and a StringFileInfo / VarFileInfo tree.
// Layout from Microsoft's Win32 docs: "VS_VERSIONINFO", "VS_FIXEDFILEINFO", "StringFileInfo",
// "StringTable", "String", "VarFileInfo", "Var" (each node: wLength, wValueLength, wType, szKey,
// padding to 32 bits, Value, padding, Children).

/// The version-resource blob writer.
enum VersionResourceEncoder {
  /// One node: header, UTF-16 key, value and children, each 32-bit aligned; wLength excludes trailing padding.
  static func node(key: String, value: [UInt8], valueLength: Int, isText: Bool, children: [[UInt8]]) throws -> [UInt8] {
    var out = ByteBuffer()
    out.append(UInt16(0))  // wLength, patched below
    guard let length = UInt16(exactly: valueLength) else {
      throw ImageBuilderError.valueTooLarge(what: "version value length", value: UInt64(valueLength), limit: 0xFFFF)
    }
    out.append(length)
    out.append(UInt16(isText ? 1 : 0))
    out.appendUTF16(key)
    out.pad(to: 4)
    out.append(value)
    for child in children {
      out.pad(to: 4)
      out.append(child)
    }
    guard let total = UInt16(exactly: out.count) else {
      throw ImageBuilderError.valueTooLarge(what: "version node \(key)", value: UInt64(out.count), limit: 0xFFFF)
    }
    out.put(total, at: 0)
    return out.bytes
  }

  private static func versionWords(_ parts: [UInt16]) throws -> (UInt32, UInt32) {
    guard parts.count == 4 else { throw ImageBuilderError.invalid("a version needs four parts, got \(parts)") }
    return (UInt32(parts[0]) << 16 | UInt32(parts[1]), UInt32(parts[2]) << 16 | UInt32(parts[3]))
  }

  /// The whole VS_VERSIONINFO blob.
  static func encode(_ info: PEBuilder.VersionInfo) throws -> [UInt8] {
    let (fileMS, fileLS) = try versionWords(info.fileVersion)
    let (productMS, productLS) = try versionWords(info.productVersion)
    var fixed = ByteBuffer()
    fixed.append(UInt32(0xFEEF_04BD))  // dwSignature
    fixed.append(UInt32(0x0001_0000))  // dwStrucVersion
    fixed.append(fileMS)
    fixed.append(fileLS)
    fixed.append(productMS)
    fixed.append(productLS)
    fixed.append(UInt32(0x3F))  // dwFileFlagsMask
    fixed.append(UInt32(0))  // dwFileFlags
    fixed.append(UInt32(0x0004_0004))  // dwFileOS VOS_NT_WINDOWS32
    fixed.append(info.fileType)
    fixed.append(info.fileSubtype)
    fixed.append(UInt64(0))  // dwFileDateMS, dwFileDateLS

    var strings: [[UInt8]] = []
    for (key, value) in info.strings {
      var text = ByteBuffer()
      text.appendUTF16(value)
      strings.append(
        try node(key: key, value: text.bytes, valueLength: value.utf16.count + 1, isText: true, children: []))
    }
    let table = try node(key: "040904B0", value: [], valueLength: 0, isText: true, children: strings)
    let stringFileInfo = try node(key: "StringFileInfo", value: [], valueLength: 0, isText: true, children: [table])
    var translation = ByteBuffer()
    translation.append(UInt16(0x0409))
    translation.append(UInt16(0x04B0))
    let variable = try node(key: "Translation", value: translation.bytes, valueLength: 4, isText: false, children: [])
    let varFileInfo = try node(key: "VarFileInfo", value: [], valueLength: 0, isText: true, children: [variable])
    return try node(
      key: "VS_VERSION_INFO", value: fixed.bytes, valueLength: fixed.count, isText: false,
      children: [stringFileInfo, varFileInfo])
  }
}
