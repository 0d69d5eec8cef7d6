// x86 C name decoration as MSVC and clang emit it in COFF symbols and PDB publics: cdecl `_Name`,
// stdcall `_Name@12`, fastcall `@Name@8` (Microsoft C++ docs, "Decorated names", format of a C
// decorated name). x64 names carry none.

/// Undecorating x86 C names.
public enum X86Decoration {
  /// `_Name` / `_Name@12` (cdecl, stdcall) and `@Name@8` (fastcall) → `Name`; nil for C++ (`?…`),
  /// `__imp_` import thunks and names without x86 C decoration.
  public static func undecorate(_ name: String) -> String? {
    guard let first = name.first, first == "_" || first == "@", !name.hasPrefix("__imp_") else { return nil }
    var s = Substring(name.dropFirst())
    if let at = s.lastIndex(of: "@"), at != s.startIndex {
      let digits = s[s.index(after: at)...]
      if !digits.isEmpty, digits.allSatisfy(\.isNumber) { s = s[..<at] }
    } else if first == "@" {
      return nil
    }
    return s.isEmpty ? nil : String(s)
  }
}
