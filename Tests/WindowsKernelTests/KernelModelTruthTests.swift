// The kernel model against the truth files: PsLoadedModuleList, the process list, the `\Callback`
// directory, object types by index; the looping process list of corrupt-proc-loop; the rootkit's
// unlinked evil.sys (absent from the list, found by MmLd carving and through its driver object).

import TestData
import Testing
import WindowsKernel

@Suite struct KernelModelTruthTests {
  @Test(arguments: ["win10-19041-clean", "win10-19041-rootkit", "win10-19041-kct-hijack"])
  func modulesMatchTruth(_ name: String) throws {
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let (modules, warnings) = try ModuleList.read(fixture.kernel)
    #expect(warnings.isEmpty, "\(warnings)")
    let listed = try truth.rows("modules").filter { $0["in_PsLoadedModuleList"] as? Bool == true }
    #expect(modules.count == listed.count)
    for (module, row) in zip(modules, listed) {
      #expect(module.name == row["name"] as? String)
      #expect(module.base == TestData.hex(row["base"]))
      #expect(module.size == TestData.hex(row["size"]))
      #expect(module.path == row["full_name"] as? String)
      #expect(module.entry == TestData.hex(row["ldr_entry"]))
      #expect(module.origin == .loadedModuleList)
    }
  }

  @Test(arguments: ["win10-19041-clean", "win10-19041-rootkit", "win10-19041-kct-hijack"])
  func processesMatchTruth(_ name: String) throws {
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let (processes, warnings) = try ProcessList.read(fixture.kernel)
    #expect(warnings.isEmpty, "\(warnings)")
    let rows = try truth.rows("processes")
    #expect(processes.count == rows.count)
    for (process, row) in zip(processes, rows) {
      #expect(process.pid == (row["pid"] as? Int).map(UInt64.init))
      #expect(process.ppid == (row["ppid"] as? Int).map(UInt64.init))
      #expect(process.name == row["name"] as? String)
      #expect(process.eprocess == TestData.hex(row["eprocess"]))
      #expect(process.dtb == TestData.hex(row["dtb"]))
      #expect(process.peb == (TestData.hex(row["peb"]) ?? 0))
    }
  }

  /// PEB.Ldr load-order lists and VAD trees of every process (the truth's `ldr.load_order`, `vads`).
  @Test(arguments: ["win10-19041-clean", "win10-19041-kct-hijack"])
  func loaderListsAndVadsMatchTruth(_ name: String) throws {
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let (processes, _) = try ProcessList.read(fixture.kernel)
    var modulesCompared = 0
    for row in try truth.rows("processes") {
      let process = try #require(processes.first { $0.eprocess == TestData.hex(row["eprocess"]) })
      let order = (row["ldr"] as? [String: Any])?["load_order"] as? [[String: Any]] ?? []
      let (modules, moduleWarnings) = try ProcessModules.native(process, kernel: fixture.kernel)
      #expect(modules.map(\.name) == order.compactMap { $0["name"] as? String }, "\(process.name)")
      #expect(modules.map(\.path) == order.compactMap { $0["full_name"] as? String }, "\(process.name)")
      #expect(modules.map(\.base) == order.compactMap { TestData.hex($0["base"]) }, "\(process.name)")
      #expect(modules.map(\.size) == order.compactMap { TestData.hex($0["size"]) }, "\(process.name)")
      modulesCompared += modules.count
      if row["ldr"] is [String: Any] { #expect(moduleWarnings.isEmpty, "\(process.name): \(moduleWarnings)") }

      let truthVads = row["vads"] as? [[String: Any]] ?? []
      let (vads, vadWarnings) = try VadTree.read(process, kernel: fixture.kernel)
      #expect(vadWarnings.isEmpty)
      #expect(vads.map(\.start) == truthVads.compactMap { TestData.hex($0["start"]) }, "\(process.name)")
      #expect(vads.map(\.end) == truthVads.compactMap { TestData.hex($0["end"]) }, "\(process.name)")
      #expect(vads.map(\.protectionName) == truthVads.compactMap { $0["protection"] as? String }, "\(process.name)")
      #expect(
        vads.map(\.privateMemory) == truthVads.compactMap { ($0["private_memory"] as? Int).map { $0 == 1 } },
        "\(process.name)")
    }
    #expect(modulesCompared > 50)
  }

  @Test(arguments: KernelFixture.imageNames)
  func callbackDirectoryMatchesTruth(_ name: String) throws {
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let manager = try ObjectManager(kernel: fixture.kernel)
    let directory = try manager.lookup("\\Callback")
    #expect(directory.typeName == "Directory")
    #expect(directory.name == "Callback")
    let (objects, warnings) = manager.entries(ofDirectory: directory.address)
    #expect(warnings.isEmpty, "\(warnings)")
    var expected: [String: UInt64] = [:]
    for (key, value) in try truth.object("callback_objects") { expected[key] = TestData.hex(value) }
    var found: [String: UInt64] = [:]
    for object in objects {
      #expect(object.typeName == "Callback", "\(object)")
      found[object.name ?? "<unnamed>"] = object.address
    }
    #expect(objects.count == expected.count)
    #expect(found == expected)
  }

  @Test func objectTypesByIndexMatchTruth() throws {
    let fixture = try KernelFixture.image("win10-19041-clean")
    let truth = try KernelFixture.truth("win10-19041-clean")
    let manager = try ObjectManager(kernel: fixture.kernel)
    var expected: [UInt8: String] = [:]
    for (typeName, value) in try truth.object("object_types") {
      let index = try #require((value as? [String: Any])?["index"] as? Int)
      expected[try #require(UInt8(exactly: index))] = typeName
    }
    #expect(expected.count > 60)
    #expect(manager.types == expected)
  }

  @Test func loopingProcessListStillYieldsEveryProcess() throws {
    let name = "win10-19041-corrupt-proc-loop"
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let (processes, warnings) = try ProcessList.read(fixture.kernel)
    let still = try #require(try truth.object("expected_still_reported")["processes"] as? [Int])
    #expect(processes.map { Int($0.pid) }.sorted() == still.sorted())
    #expect(Set(processes.map(\.eprocess)).count == processes.count, "no process reported twice")
    let defect = try truth.object("defect")
    let loopTarget = try #require(TestData.hex(defect["new_value"]))
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains("PsActiveProcessHead") == true)
    #expect(warnings.first?.contains("loops back to \(hexText(loopTarget))") == true, "\(warnings)")
    // Every process still carries the truth's values.
    for row in try truth.rows("processes") {
      let process = processes.first { $0.pid == (row["pid"] as? Int).map(UInt64.init) }
      #expect(process?.eprocess == TestData.hex(row["eprocess"]))
      #expect(process?.name == row["name"] as? String)
    }
  }

  @Test func unlinkedRootkitDriverIsCarvedAndFoundThroughItsDriverObject() throws {
    let name = "win10-19041-rootkit"
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let evil = try #require(try truth.rows("modules").first { $0["in_PsLoadedModuleList"] as? Bool == false })
    #expect(evil["name"] as? String == "evil.sys")
    let base = try #require(TestData.hex(evil["base"]))
    let size = try #require(TestData.hex(evil["size"]))
    let (listed, _) = try ModuleList.read(fixture.kernel)
    #expect(!listed.contains { $0.base == base || $0.name.lowercased() == "evil.sys" })

    let hits = PoolScanner.scan(fixture.memory, tags: [ModuleCarver.tag], pointerSize: fixture.kernel.pointerSize)
    let carved = ModuleCarver.carve(fixture.kernel, hits: hits, excluding: Set(listed.map(\.base)))
    #expect(carved.count == 1, "only the unlinked driver is new: \(carved)")
    let found = try #require(carved.first { $0.base == base })
    #expect(found.origin == .carved)
    #expect(found.name == "evil.sys")
    #expect(found.size == size)
    #expect(found.path == evil["full_name"] as? String)

    let manager = try ObjectManager(kernel: fixture.kernel)
    let (drivers, _) = DriverObjectModules.read(manager)
    let driver = try #require(drivers.first { $0.address == TestData.hex(evil["driver_object"]) })
    #expect(driver.name == evil["driver_name"] as? String)
    #expect(driver.start == base)
    #expect(driver.size == size)
    let fromDrivers = DriverObjectModules.modules(drivers, excluding: listed)
    let module = try #require(fromDrivers.first { $0.base == base })
    #expect(module.origin == .driverObject)
    // Named after its file, from DriverSection → loader entry, as the truth's module row names it.
    #expect(driver.image.source == .loaderEntry)
    #expect(module.name == evil["name"] as? String)
    #expect(module.path == evil["full_name"] as? String)
    #expect(module.size == size)
  }
}

/// `0x…` lower-case hex as CallScope's messages print addresses.
func hexText(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
