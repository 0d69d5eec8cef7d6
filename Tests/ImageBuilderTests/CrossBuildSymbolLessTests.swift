// The demo planted on each of the six cross builds (CrossBuild.all) with export code in the shapes
// of the build's range and an RSDS GUID no symbol table has, read by the library without symbols
// (SymbolLessProfile, the path `callscope callbacks --no-symbols` takes). The truth is the build's
// ISF (python-read RVAs) and what the builder planted: every located symbol must lie at the ISF's
// RVA, every planted module, process and callback must come out, and a family whose head no
// export reaches must be "not located" with a reason.

import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

struct CrossBuildSymbolLessTests {
  /// A GUID no bundled profile has: the build's own with its last eight digits replaced.
  static func unknownGUID(_ guid: String) -> String { String(guid.prefix(24)) + "0BADC0DE" }

  @Test(arguments: CrossBuild.all)
  func libraryReadsTheDemoWithoutSymbols(_ build: CrossBuild) throws {
    let facts = try CrossBuildData.facts(build)
    let index = UInt64(CrossBuild.all.firstIndex { $0.guid == build.guid } ?? 0)
    let guid = Self.unknownGUID(build.guid)
    var configuration = WindowsImageConfiguration(seed: 0x50 + index)
    configuration.pdbGUID = guid
    configuration.pdbAge = 1
    configuration.version = facts.version
    configuration.exportCode = true
    let builder = try WindowsImageBuilder.demo(configuration, build: facts.kernelBuild, layouts: facts.layouts)
    let path = try Oracles.temporaryPath("demo-\(facts.buildNumber)-unknown-guid.raw")
    try builder.writeRaw(to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let truth = builder.truth
    #expect(!builder.exportCode.isEmpty)

    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let image = try #require(system.kernel)
    #expect(image.base == truth.kernelBase)
    #expect(image.pdb == PDBIdentity(name: "ntkrnlmp.pdb", guid: guid, age: 1))
    #expect(throws: (any Error).self, "a profile answered for the altered GUID") {
      _ = try ProfileLoader.load(
        identity: image.pdb, symbolPath: SymbolPath(elements: []), offline: true,
        openPDB: { path in try PDBProfile(path: path) })
    }
    let profile = try SymbolLessProfile.make(
      space: system.space, image: image, version: image.fileVersion, bundle: try BundledProfiles.shipped())

    // What `symbols verify` checks: every located symbol is the ISF's.
    for symbol in profile.located.values.sorted(by: { $0.name < $1.name }) {
      let isf = facts.symbols[symbol.name]
      #expect(
        symbol.rva == isf,
        "\(symbol.name): located at RVA \(String(symbol.rva, radix: 16)), ISF \(isf.map { String($0, radix: 16) } ?? "absent"): \(symbol.evidence)"
      )
    }
    // Each chain shows the hops of its export's shape (a tail jump within 4 KiB is a branch, not a hop).
    let shapes = Dictionary(builder.exportCode.map { ($0.export, $0.shape) }, uniquingKeysWith: { a, _ in a })
    var chains = 0
    for symbol in profile.located.values where symbol.provenance == .pattern {
      guard let first = symbol.evidence.first, first.hasPrefix("export "),
        let export = first.split(separator: " ").dropFirst().first.map(String.init), let shape = shapes[export]
      else { continue }
      let hops = symbol.evidence.filter { $0.hasPrefix("call at") || $0.hasPrefix("jmp at") }.count
      let expected: Int? =
        switch shape {
        case .direct: 0
        case .callHop, .thunk: 1
        case .twoHops: 2
        case .tailJump: nil
        }
      if let expected { #expect(hops == expected, "\(symbol.name) via \(export) (\(shape)): \(symbol.evidence)") }
      chains += 1
    }
    #expect(chains >= 15, "only \(chains) located symbols name a written export")
    // Everything the demo planted that an export names (its code or the export table) is located.
    // The process list head is the kernel model's (from PsInitialSystemProcess's links), not an export's.
    let reached = Set(builder.exportCode.flatMap(\.variables) + ExportRoutine.dataExports + ["PsActiveProcessHead"])
    let planted = Set(DemoScenario.variables).intersection(reached).filter { facts.symbols[$0] != nil }
    for name in planted.sorted() {
      #expect(
        profile.located[name] != nil, "\(name) not located: \(profile.failures[name]?.reason ?? "no failure recorded")")
    }
    // The kernel model's: the process list from PsInitialSystemProcess; the object-type table and
    // (from Windows 10 on) the header cookie from ObGetObjectType's code, with the table planted.
    var model = ["PsActiveProcessHead", "ObTypeIndexTable"]
    if facts.buildNumber >= 10240 { model.append("ObHeaderCookie") }
    for name in model {
      #expect(profile.located[name] != nil, "\(name) not located: \(profile.failures[name]?.reason ?? "")")
    }

    let kernel = Kernel(space: system.space, image: image, profile: profile)
    let (modules, moduleWarnings) = try ModuleList.read(kernel)
    #expect(moduleWarnings.isEmpty, "\(moduleWarnings)")
    #expect(modules.map(\.name) == truth.modules.map(\.name))
    #expect(modules.map(\.base) == truth.modules.map(\.base))
    #expect(modules.map(\.size) == truth.modules.map(\.size))
    let (processes, processWarnings) = try ProcessList.read(kernel)
    #expect(processWarnings.isEmpty, "\(processWarnings)")
    #expect(processes.map(\.name) == truth.processes.map(\.name))
    #expect(processes.map(\.pid) == truth.processes.compactMap(\.pid))
    #expect(processes.map(\.eprocess) == truth.processes.compactMap(\.eprocess))

    let results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: facts.buildNumber))
    #expect(results.flatMap(\.warnings).isEmpty, "\(results.flatMap(\.warnings))")
    #expect(truth.callbacks.count == 11)
    for planted in truth.callbacks {
      let entry = results.filter { $0.family == planted.family }.flatMap(\.entries).first {
        $0.index == planted.index && $0.routine == planted.routine
      }
      #expect(entry != nil, "\(planted.family)[\(planted.index)] not reported")
      #expect(entry?.headSymbol == planted.headSymbol)
      #expect(entry?.object == planted.object)
      #expect(entry?.provenance == .pattern)
    }
    #expect(results.flatMap(\.entries).count == truth.callbacks.count)
    // A family whose every variable is unreached (absent from the build, or referenced by no
    // export the builder writes) is not located, and says why.
    for result in results {
      if CrossBuildTests.unplanted[result.family] != nil, let reason = result.notLocated {
        // Not planted on this demo (its reason differs without symbols); located, it meets the rule below.
        #expect(!reason.isEmpty && result.entries.isEmpty, "\(result.family)")
        continue
      }
      let symbols = CrossBuildTests.familySymbols[result.family] ?? []
      let reachable = symbols.contains { reached.contains($0) && facts.symbols[$0] != nil }
      if let reason = result.notLocated {
        #expect(!reason.isEmpty)
        #expect(!reachable, "\(result.family) not located though an export reaches it: \(reason)")
      } else {
        #expect(reachable, "\(result.family) located though no export reaches \(symbols)")
      }
    }
    let located = results.filter { $0.notLocated == nil }.count
    print(
      "symbol-less \(build.label): \(profile.located.count) symbols located, \(profile.failures.count) not; "
        + "families \(located)/\(results.count); \(chains) chains from written exports; not located: "
        + results.compactMap { r in r.notLocated.map { "\(r.family) (\($0.prefix(160)))" } }.joined(separator: "; ")
        + "; symbols not located: \(profile.failures.keys.sorted().joined(separator: " ")); shapes "
        + builder.exportCode.map { "\($0.export)=\($0.shape.rawValue)\($0.atBuildRVA ? "@build" : "")" }.joined(
          separator: " "))
  }

  /// The shapes come from the seed: one seed always gives the same code, and a few seeds between
  /// them use every shape of the build's range; each export names the code written for it.
  @Test func shapesFollowTheSeed() throws {
    let build = try #require(CrossBuild.all.last)
    let facts = try CrossBuildData.facts(build)
    func records(_ seed: UInt64) throws -> [ExportCodeRecord] {
      var configuration = WindowsImageConfiguration(seed: seed)
      configuration.version = facts.version
      configuration.exportCode = true
      let builder = try WindowsImageBuilder.demo(configuration, build: facts.kernelBuild, layouts: facts.layouts)
      for record in builder.exportCode {
        #expect(builder.kernelImage.exportRVAs[record.export].map(UInt64.init) == record.rva, "\(record.export)")
      }
      return builder.exportCode
    }
    let first = try records(1)
    #expect(try records(1) == first)
    let others = try records(2) + records(3)
    #expect(others.map(\.shape) != first.map(\.shape))
    #expect(
      Set((first + others).map(\.shape)) == Set(ExportCodeShape.allowed(build: facts.buildNumber)),
      "\(Set((first + others).map(\.shape)))")
  }
}
