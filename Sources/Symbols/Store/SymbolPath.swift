// The symbol path: where CallScope looks for symbol files, in order. Built from `--symbols PATH`
// (repeatable) and `_NT_SYMBOL_PATH`, whose syntax is the debuggers' (Microsoft Learn, "Symbol path
// for Windows debuggers": `srv*CACHE*URL`, `SRV*URL`, `cache*DIR`, plain folders, `;`-separated).

import Foundation

/// An ordered list of places holding symbol files, and where downloads are cached.
public struct SymbolPath: Sendable, Equatable {
  /// Microsoft's public symbol server.
  public static let microsoftServer = "https://msdl.microsoft.com/download/symbols"

  /// One place on the path.
  public enum Element: Sendable, Equatable {
    /// One symbol file given explicitly (`.pdb`, `.json`, `.json.xz`, `.json.gz`).
    case file(String)
    /// A folder: a symbol store (`<pdb>/<GUID><AGE>/<pdb>`), a folder of PDBs, or a Volatility 3
    /// symbols folder (`windows/<pdb>/<GUID>-<AGE>.json.xz`).
    case directory(String)
    /// A symbol server, with the downstream store its downloads go to (nil: the default cache).
    case server(url: String, cache: String?)
  }

  /// The places, in lookup order.
  public var elements: [Element]
  /// Where downloads go when a server element names no cache.
  public var defaultCache: String

  public init(elements: [Element], defaultCache: String = SymbolPath.defaultCacheDirectory()) {
    self.elements = elements
    self.defaultCache = defaultCache
  }

  /// `$CALLSCOPE_SYMBOL_CACHE`, else `$XDG_CACHE_HOME/callscope/symbols`, else `~/.cache/callscope/symbols`.
  public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
    -> String
  {
    if let c = environment["CALLSCOPE_SYMBOL_CACHE"], !c.isEmpty { return c }
    if let x = environment["XDG_CACHE_HOME"], !x.isEmpty { return x + "/callscope/symbols" }
    let home = environment["HOME"] ?? NSHomeDirectory()
    return home + "/.cache/callscope/symbols"
  }

  /// Local folders and files (explicit ones first), without servers.
  public var localElements: [Element] {
    elements.filter { if case .server = $0 { return false } else { return true } }
  }

  /// The servers, in order.
  public var servers: [(url: String, cache: String)] {
    elements.compactMap { if case .server(let u, let c) = $0 { return (u, c ?? defaultCache) } else { return nil } }
  }

  /// Every folder searched locally: the folders on the path, the server caches and the default cache.
  public var searchedDirectories: [String] {
    var dirs: [String] = []
    for e in elements {
      switch e {
      case .directory(let d): dirs.append(d)
      case .server(_, let c): dirs.append(c ?? defaultCache)
      case .file: break
      }
    }
    dirs.append(defaultCache)
    var seen = Set<String>()
    return dirs.filter { seen.insert($0).inserted }
  }

  /// Parses one `_NT_SYMBOL_PATH`-style string (elements separated by `;`).
  public static func parse(_ text: String, defaultServer: String = microsoftServer) throws(SymbolsError) -> [Element] {
    guard text.utf8.count <= 1 << 16 else {
      throw .badSymbolPath(String(text.prefix(40)), reason: "longer than 64 KiB")
    }
    var out: [Element] = []
    var cache: String?
    for raw in text.split(separator: ";", omittingEmptySubsequences: true).prefix(256) {
      let element = raw.trimmingCharacters(in: .whitespaces)
      guard !element.isEmpty else { continue }
      guard !element.utf8.contains(0) else { throw .badSymbolPath(element, reason: "contains a NUL byte") }
      let parts = element.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
      let head = parts[0].lowercased()
      if parts.count > 1 && (head == "srv" || head == "symsrv") {
        // srv*[cache*…]*url; symsrv*symsrv.dll*[cache*]*url. Empty parts mean "the default".
        var rest = Array(parts.dropFirst(head == "symsrv" ? 2 : 1))
        let url = rest.last.flatMap { $0.isEmpty ? nil : $0 } ?? defaultServer
        if !rest.isEmpty, isURL(rest[rest.count - 1]) || rest[rest.count - 1].isEmpty { rest.removeLast() }
        let local = rest.filter { !$0.isEmpty && !isURL($0) }
        for dir in local.dropFirst() { out.append(.directory(dir)) }
        guard isURL(url) else { throw .badSymbolPath(element, reason: "the last part must be an http(s) URL") }
        out.append(.server(url: url, cache: local.first ?? cache))
      } else if parts.count > 1 && head == "cache" {
        cache = parts[1].isEmpty ? nil : parts[1]
        if let cache { out.append(.directory(cache)) }
      } else if parts.count > 1 {
        throw .badSymbolPath(element, reason: "unknown prefix `\(parts[0])*` (expected srv*, symsrv* or cache*)")
      } else if isURL(element) {
        out.append(.server(url: element, cache: cache))
      } else {
        out.append(isSymbolFile(element) ? .file(element) : .directory(element))
      }
    }
    return out
  }

  /// The path CallScope uses: each `--symbols` value (a file, a folder or an NT-style path) first,
  /// then `_NT_SYMBOL_PATH`; `--symbol-server` adds (or, with no server on the path, is) the server.
  /// With no server anywhere, Microsoft's server is added last (it is only used when not offline).
  public static func resolve(
    symbols: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
    symbolServer: String? = nil
  ) throws(SymbolsError) -> SymbolPath {
    var elements: [Element] = []
    for s in symbols { elements += try parse(s) }
    if let nt = environment["_NT_SYMBOL_PATH"] { elements += try parse(nt) }
    if let symbolServer {
      guard isURL(symbolServer) else {
        throw .badSymbolPath(symbolServer, reason: "--symbol-server needs an http(s) URL")
      }
      elements.append(.server(url: symbolServer, cache: nil))
    }
    if !elements.contains(where: { if case .server = $0 { return true } else { return false } }) {
      elements.append(.server(url: microsoftServer, cache: nil))
    }
    return SymbolPath(elements: elements, defaultCache: defaultCacheDirectory(environment: environment))
  }

  static func isURL(_ s: String) -> Bool {
    let l = s.lowercased()
    return l.hasPrefix("http://") || l.hasPrefix("https://")
  }

  static func isSymbolFile(_ s: String) -> Bool {
    let l = s.lowercased()
    return l.hasSuffix(".pdb") || ISFDirectory.extensions.contains { l.hasSuffix($0) }
  }
}
