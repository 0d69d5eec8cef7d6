// `callscope symbols …`: list the profiles CallScope can reach, show one profile's symbols and
// struct layouts, fetch a PDB from a symbol server, and build the bundled-profile file from ISF files.

import ArgumentParser
import Callbacks
import Foundation
import MemoryImage
import Symbols
import WindowsKernel

/// The `symbols` command and its subcommands.
struct SymbolsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "symbols",
    abstract: "List, show and fetch symbol files; build the bundled profiles.",
    discussion: """
      Symbols come from, in order: files and folders given with --symbols (a PDB, a Volatility 3 ISF \
      file, a symbol store, a folder of PDBs or a Volatility 3 symbols folder), _NT_SYMBOL_PATH \
      (srv*CACHE*URL, cache*DIR, folders; ;-separated), the profiles bundled with CallScope, and a \
      symbol server (default \(SymbolPath.microsoftServer); --symbol-server URL) unless --offline.

      The bundled profiles are derived from Volatility 3 ISF files published by JPCERT/CC under the \
      3-Clause BSD License (Copyright 2023 JPCERT Coordination Center); the license text ships as \
      LICENSE-JPCERT in the Symbols resources.
      """,
    subcommands: [List.self, Show.self, Fetch.self, Bundle.self, Verify.self])

  /// Opens a PDB file as a profile; the integrator sets it to the PDB reader (`PDBProfile(path:)`).
  nonisolated(unsafe) static var openPDB: (String) throws -> any KernelProfile = { path in
    throw SymbolsError.unsupported(file: path, what: "reading PDB files (no PDB reader linked)")
  }

  /// Where symbols come from.
  struct Options: ParsableArguments {
    @Option(name: .customLong("symbols"), help: "A symbol file, folder, store or NT-style path (repeatable).")
    var symbols: [String] = []
    @Option(name: .customLong("symbol-server"), help: "A symbol server URL.")
    var symbolServer: String?
    @Flag(help: "Never use the network.")
    var offline = false

    func symbolPath() throws -> SymbolPath {
      do { return try SymbolPath.resolve(symbols: symbols, symbolServer: symbolServer) } catch {
        throw SymbolsCommand.failure(error.description)
      }
    }
  }

  /// Prints `message` on stderr and returns exit status 2 (bad usage or unreadable input).
  static func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("callscope: \(message)\n".utf8))
    return ExitCode(2)
  }

  /// Parses `NAME/GUID-AGE` (e.g. `ntkrnlmp.pdb/3177D3…-1`).
  static func parseIdentity(_ text: String) -> PDBIdentity? {
    let parts = text.split(separator: "/")
    guard parts.count == 2 else { return nil }
    let key = parts[1].split(separator: "-")
    guard key.count == 2, key[0].count == 32, key[0].allSatisfy(\.isHexDigit), let age = UInt32(key[1]) else {
      return nil
    }
    return PDBIdentity(name: String(parts[0]), guid: String(key[0]), age: age)
  }

  static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

  static func writeJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }
}

extension SymbolsCommand {
  /// `symbols list`: every profile reachable.
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List every profile reachable (bundled and on the symbol path).")
    @OptionGroup var options: Options
    @Option(help: "table or json") var format = "table"

    func run() throws {
      var rows: [[String: String]] = []
      if let bundle = try? BundledProfiles.shipped() {
        for b in bundle.builds {
          rows.append([
            "pdb": b.identity.name, "guid": b.identity.guid, "age": String(b.identity.age),
            "version": b.version ?? "", "source": "bundled",
          ])
        }
      }
      let path = try options.symbolPath()
      for dir in path.searchedDirectories {
        for e in ISFDirectory.list(root: dir) {
          rows.append([
            "pdb": e.identity.name, "guid": e.identity.guid, "age": String(e.identity.age), "version": "",
            "source": e.path,
          ])
        }
        for (id, file) in Self.storedPDBs(dir) {
          rows.append(["pdb": id.name, "guid": id.guid, "age": String(id.age), "version": "", "source": file])
        }
      }
      for case .file(let f) in path.localElements {
        rows.append(["pdb": (f as NSString).lastPathComponent, "guid": "", "age": "", "version": "", "source": f])
      }
      if format == "json" {
        try SymbolsCommand.writeJSON(rows)
        return
      }
      print(
        "PDB".padding(toLength: 16, withPad: " ", startingAt: 0) + " GUID-AGE" + String(repeating: " ", count: 27)
          + " VERSION          SOURCE")
      for r in rows {
        let key = (r["guid"] ?? "") + "-" + (r["age"] ?? "")
        print(
          (r["pdb"] ?? "").padding(toLength: 16, withPad: " ", startingAt: 0) + " "
            + key.padding(toLength: 35, withPad: " ", startingAt: 0) + " "
            + (r["version"] ?? "").padding(toLength: 16, withPad: " ", startingAt: 0) + " " + (r["source"] ?? ""))
      }
    }

    /// PDBs in a symbol store folder: `<name>/<GUID><AGE>/<name>` (names validated, at most 10 000).
    static func storedPDBs(_ dir: String) -> [(PDBIdentity, String)] {
      let fm = FileManager.default
      var out: [(PDBIdentity, String)] = []
      for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where name.lowercased().hasSuffix(".pdb")
      {
        guard (try? SymbolFileName.validate(name)) != nil else { continue }
        for key in ((try? fm.contentsOfDirectory(atPath: "\(dir)/\(name)")) ?? []).sorted() where key.count > 32 {
          let file = "\(dir)/\(name)/\(key)/\(name)"
          guard out.count < 10_000, fm.fileExists(atPath: file), key.prefix(32).allSatisfy(\.isHexDigit),
            let age = UInt32(key.dropFirst(32), radix: 16)
          else { continue }
          out.append((PDBIdentity(name: name, guid: String(key.prefix(32)), age: age), file))
        }
      }
      return out
    }
  }

  /// `symbols show`: one profile's symbols and struct layouts.
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show every symbol RVA and struct field offset of a profile.",
      discussion: "TARGET is PDBNAME/GUID-AGE (looked up like an image's kernel), a .pdb file, or an ISF file.")
    @OptionGroup var options: Options
    @Option(help: "table or json") var format = "table"
    @Argument(help: "PDBNAME/GUID-AGE, FILE.pdb or FILE.json[.xz|.gz]") var target: String

    func run() throws {
      let profile = try open()
      let symbols = profile.symbolNames.sorted()
      let structs = profile.structNames.sorted()
      if format == "json" {
        var s: [String: String] = [:]
        for n in symbols { if let i = profile.symbol(n) { s[n] = SymbolsCommand.hex(i.rva) } }
        var t: [String: Any] = [:]
        for n in structs {
          var f: [String: Int] = [:]
          for (k, v) in profile.fields(of: n) ?? [:] { f[k] = v.offset }
          // A size the profile does not give is null, not 0.
          let size: Any = profile.structSize(n).flatMap { $0 >= 0 ? $0 : nil } ?? NSNull()
          t[n] = ["size": size, "fields": f] as [String: Any]
        }
        let id = profile.identity
        try SymbolsCommand.writeJSON([
          "pdb": ["name": id.name, "guid": id.guid, "age": Int(id.age)] as [String: Any],
          "source": profile.sourceDescription, "symbols": s, "types": t,
        ])
        return
      }
      print("\(profile.identity)  (\(profile.sourceDescription))")
      print("\nSYMBOL RVA")
      for n in symbols { if let i = profile.symbol(n) { print("\(n) \(SymbolsCommand.hex(i.rva))") } }
      print("\nSTRUCT FIELD OFFSET")
      for n in structs {
        let size = profile.structSize(n).flatMap { $0 >= 0 ? SymbolsCommand.hex(UInt64($0)) : nil } ?? "unknown"
        print("\(n) size \(size)")
        let fields = (profile.fields(of: n) ?? [:]).sorted { ($0.value.offset, $0.key) < ($1.value.offset, $1.key) }
        for (k, v) in fields {
          var line = "  +\(SymbolsCommand.hex(UInt64(max(v.offset, 0)))) \(k)"
          if let p = v.bitPosition, let l = v.bitLength { line += " : bits \(p)..\(p + l - 1)" }
          print(line)
        }
      }
    }

    func open() throws -> any KernelProfile {
      let lower = target.lowercased()
      do {
        if lower.hasSuffix(".pdb") && FileManager.default.fileExists(atPath: target) {
          return try SymbolsCommand.openPDB(target)
        }
        if ISFDirectory.extensions.contains(where: { lower.hasSuffix($0) }) {
          return try ISFProfile(path: target)
        }
        guard let id = SymbolsCommand.parseIdentity(target) else {
          throw SymbolsCommand.failure("`\(target)`: expected PDBNAME/GUID-AGE, a .pdb file or an ISF file")
        }
        return try ProfileLoader.load(
          identity: id, symbolPath: try options.symbolPath(), offline: options.offline,
          openPDB: SymbolsCommand.openPDB)
      } catch let e as ExitCode {
        throw e
      } catch {
        throw SymbolsCommand.failure("\(error)")
      }
    }
  }

  /// `symbols fetch`: put a PDB into the cache.
  struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Download a PDB from the symbol server into the cache.")
    @OptionGroup var options: Options
    @Option(help: "NAME/GUID-AGE, e.g. ntkrnlmp.pdb/3177D3…E374-1") var pdb: String?
    @Argument(help: "A memory image: fetch the PDB of the kernel found in it.") var image: String?

    func validate() throws {
      guard (pdb == nil) != (image == nil) else { throw ValidationError("give either IMAGE or --pdb NAME/GUID-AGE") }
    }

    /// The identity to fetch: from --pdb, or the kernel discovered in IMAGE.
    private func identity() throws -> PDBIdentity {
      if let pdb {
        guard let id = SymbolsCommand.parseIdentity(pdb) else {
          throw SymbolsCommand.failure("--pdb `\(pdb)`: expected NAME/GUID-AGE")
        }
        return id
      }
      let memory = try MemoryImageOpener.open(path: image ?? "")
      let system = try KernelDiscovery.discover(memory: memory)
      guard let kernel = system.kernel else {
        throw SymbolsCommand.failure(system.kernelError?.description ?? "no kernel found in \(image ?? "")")
      }
      return kernel.pdb
    }

    func run() throws {
      let id = try identity()
      do {
        let store = SymbolStore(path: try options.symbolPath(), offline: options.offline)
        if let local = try store.findLocal(id).first(where: { if case .pdb = $0 { true } else { false } }) {
          print(local.path)
          return
        }
        print(try store.download(id).path)
      } catch let e as ExitCode {
        throw e
      } catch {
        throw SymbolsCommand.failure("\(error)")
      }
    }
  }

  /// `symbols bundle`: build the bundled-profile file from ISF files.
  struct Bundle: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build the bundled-profile file from a folder of Volatility 3 ISF files.",
      discussion:
        "ISF_DIR holds <pdb>/<GUID>-<AGE>.json[.xz|.gz] (or windows/<pdb>/…); a VERSIONS.md table adds versions.")
    @Argument(help: "Folder of ISF files") var isfDir: String
    @Argument(help: "Output file (e.g. Sources/Symbols/Resources/profiles.bin)") var out: String

    func run() throws {
      var entries = ISFDirectory.list(root: isfDir)
      var versions = ISFDirectory.versions(inDirectory: isfDir)
      if entries.isEmpty {
        // ISF_DIR may be the <pdb> folder itself.
        let parent = (isfDir as NSString).deletingLastPathComponent
        let name = (isfDir as NSString).lastPathComponent
        entries = ISFDirectory.list(root: parent).filter { $0.identity.name == name }
        versions.merge(ISFDirectory.versions(inDirectory: parent)) { a, _ in a }
      }
      guard !entries.isEmpty else { throw SymbolsCommand.failure("\(isfDir): no <pdb>/<GUID>-<AGE>.json* files") }
      // The kernel model's symbols and structs, then every callback family's (their descriptors).
      var writer = BundleWriter(
        symbols: FamilyDescriptor.unique(BundledCatalog.symbols + FamilyDescriptor.bundledSymbols),
        structs: FamilyDescriptor.unique(BundledCatalog.structs + FamilyDescriptor.bundledStructs))
      do {
        for e in entries {
          let p = try ISFProfile(path: e.path)
          try writer.add(p, version: versions[p.identity.isfKey], machine: p.machineType)
        }
        let bytes = try writer.serialize()
        guard FileManager.default.createFile(atPath: out + ".tmp", contents: Data(bytes)),
          rename(out + ".tmp", out) == 0
        else { throw SymbolsCommand.failure("\(out): cannot write") }
        print("\(out): \(writer.buildCount) builds, \(bytes.count) bytes")
      } catch let e as ExitCode {
        throw e
      } catch {
        throw SymbolsCommand.failure("\(error)")
      }
    }
  }
}
