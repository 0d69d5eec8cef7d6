// A release no bundled build has: the demo planted with the 19041 layouts (python-read from its
// ISF) under an unknown GUID and version 10.0.19000, so the symbol-less path lends the nearest
// older bundled release's (18362, whose EPROCESS puts UniqueProcessId at 0x2e8, not 0x440). The
// lent layouts fail validation; the process fields must then be derived from the data, equal to
// the ISF's, and the processes, modules and callbacks the builder planted must come out.

import Callbacks
import Foundation
import ImageBuilder
import MemoryImage
import Reports
import Symbols
import TestData
import Testing
import WindowsKernel

struct CrossBuildDerivedLayoutTests {
  /// The demo on the 19041 layouts as version 10.0.19000 with an unknown GUID; `adjust` may change it.
  static func demo(adjust: (WindowsImageBuilder) throws -> Void = { _ in }) throws -> (
    WindowsImageBuilder, CrossBuildFacts, String
  ) {
    let facts = try CrossBuildData.facts(CrossBuild.reference)
    var configuration = WindowsImageConfiguration(seed: 0x1900)
    configuration.pdbGUID = CrossBuildSymbolLessTests.unknownGUID(CrossBuild.reference.guid)
    configuration.pdbAge = 1
    configuration.version = [10, 0, 19000, 1]
    configuration.exportCode = true
    let builder = try WindowsImageBuilder.demo(configuration, build: facts.kernelBuild, layouts: facts.layouts)
    try adjust(builder)
    let path = try Oracles.temporaryPath("demo-19000-derived.raw")
    try builder.writeRaw(to: path)
    return (builder, facts, path)
  }

  static func open(_ path: String) throws -> (DiscoveredSystem, KernelImage) {
    let system = try KernelDiscovery.discover(memory: try MemoryImageOpener.open(path: path))
    return (system, try #require(system.kernel))
  }

  @Test func processFieldsAreDerivedWhenTheOlderReleaseDoesNotFit() throws {
    let (builder, facts, path) = try Self.demo()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (system, image) = try Self.open(path)
    let bundle = try BundledProfiles.shipped()
    let version = try #require(image.fileVersion.flatMap(KernelVersion.init))
    let lender = try #require(bundle.lender(for: version, pdbName: image.pdb.name, machine: UInt32(image.machine)))
    #expect(lender.lending == .olderRelease)
    #expect(lender.build.version?.hasPrefix("10.0.18362.") == true, "\(lender.build.version ?? "?")")

    let profile = try SymbolLessProfile.make(
      space: system.space, image: image, version: image.fileVersion, bundle: bundle)
    let derived = try #require(profile.layouts as? DerivedLayoutProfile, "no fields derived")
    // The derived offsets are the 19041 ISF's (python), not the lender's.
    let isf = try #require(facts.layouts.structs["_EPROCESS"]), kisf = try #require(facts.layouts.structs["_KPROCESS"])
    let expected = [
      "_EPROCESS.UniqueProcessId": isf.fields["UniqueProcessId"]?.offset,
      "_EPROCESS.ActiveProcessLinks": isf.fields["ActiveProcessLinks"]?.offset,
      "_EPROCESS.ImageFileName": isf.fields["ImageFileName"]?.offset,
      "_KPROCESS.DirectoryTableBase": kisf.fields["DirectoryTableBase"]?.offset,
    ]
    #expect(expected["_EPROCESS.UniqueProcessId"] == 0x440)
    #expect(
      Dictionary(uniqueKeysWithValues: derived.derived.map { ("\($0.structName).\($0.field)", $0.offset) }) == expected)
    #expect(derived.base.offset("_EPROCESS", "UniqueProcessId") != expected["_EPROCESS.UniqueProcessId"] ?? nil)
    for field in derived.derived {
      #expect(!field.evidence.isEmpty)
      #expect(profile.layoutSource.contains("\(field.structName).\(field.field) +0x\(String(field.offset, radix: 16))"))
    }
    #expect(profile.layoutSource.contains("derived from the data"), "\(profile.layoutSource)")
    // `info` names them: in the Layouts line (the layout source) and, in JSON, one object per field.
    let report = SymbolSourcesReport(profile: profile, loadError: nil)
    #expect(report.layouts == profile.layoutSource)
    #expect(report.derivedFields == derived.derived)

    let truth = builder.truth
    let kernel = Kernel(space: system.space, image: image, profile: profile)
    #expect(LayoutValidation.problems(kernel: kernel).isEmpty)
    let (processes, processWarnings) = try ProcessList.read(kernel)
    #expect(processWarnings.isEmpty, "\(processWarnings)")
    #expect(processes.map(\.name) == truth.processes.map(\.name))
    #expect(processes.map(\.pid) == truth.processes.compactMap(\.pid))
    #expect(processes.map(\.eprocess) == truth.processes.compactMap(\.eprocess))
    #expect(processes.map(\.dtb) == truth.processes.map(\.dtb))
    let (modules, moduleWarnings) = try ModuleList.read(kernel)
    #expect(moduleWarnings.isEmpty, "\(moduleWarnings)")
    #expect(modules.map(\.name) == truth.modules.map(\.name))
    #expect(modules.map(\.base) == truth.modules.map(\.base))
    let results = CallbackScanner.scan(CallbackContext(kernel: kernel, build: 19041))
    for planted in truth.callbacks {
      let entry = results.filter { $0.family == planted.family }.flatMap(\.entries).first {
        $0.index == planted.index && $0.routine == planted.routine
      }
      #expect(entry != nil, "\(planted.family)[\(planted.index)] not reported")
    }
  }

  /// A System EPROCESS whose pid is gone: nothing matches, so nothing is derived and the error
  /// names the PDB to supply.
  @Test func nothingMatchingIsNotLocatedWithThePDBNamed() throws {
    let (_, _, path) = try Self.demo { builder in
      let system = try #require(builder.truth.processes.first?.eprocess)
      try builder.writeLE(UInt64(0), at: system + 0x440)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (system, image) = try Self.open(path)
    let guid = CrossBuildSymbolLessTests.unknownGUID(CrossBuild.reference.guid)
    let bundle = try BundledProfiles.shipped()
    do {
      _ = try SymbolLessProfile.make(space: system.space, image: image, version: image.fileVersion, bundle: bundle)
      Issue.record("a profile was built from an EPROCESS without a pid")
    } catch {
      let text = String(describing: error)
      #expect(
        text.contains("_EPROCESS.UniqueProcessId/ActiveProcessLinks could not be derived from the data"), "\(text)")
      #expect(text.contains("ntkrnlmp.pdb (GUID \(guid), age 1"), "\(text)")
      #expect(text.contains("ntkrnlmp.pdb/\(guid)1/ntkrnlmp.pdb"), "\(text)")
    }
  }

  /// A second "System\0" whose offset also holds a printable name in the next process: two
  /// candidates pass, so ImageFileName is not derived and the PDB is named.
  @Test func twoImageFileNameCandidatesAreNotDerived() throws {
    let (_, _, path) = try Self.demo { builder in
      let processes = builder.truth.processes.compactMap(\.eprocess)
      try #require(processes.count >= 2)
      try builder.write(Array("System".utf8) + [0], at: processes[0] + 0x900)
      try builder.write(Array("decoy".utf8) + [0], at: processes[1] + 0x900)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (system, image) = try Self.open(path)
    let bundle = try BundledProfiles.shipped()
    do {
      _ = try SymbolLessProfile.make(space: system.space, image: image, version: image.fileVersion, bundle: bundle)
      Issue.record("a profile was built from an ambiguous ImageFileName")
    } catch {
      let text = String(describing: error)
      #expect(text.contains("_EPROCESS.ImageFileName could not be derived from the data: ambiguous"), "\(text)")
      #expect(text.contains("0x5a8") && text.contains("0x900"), "\(text)")
      #expect(text.contains("symbol-server path ntkrnlmp.pdb/"), "\(text)")
    }
  }
}
