// The demo builder refuses build facts and layout tables it cannot honour, with errors naming what
// is missing or too small (one test per case).

import ImageBuilder
import Testing

struct DemoBuilderInputTests {
  func message(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch {
      return "\(error)"
    }
  }

  @Test func factsWithoutTheScenarioVariablesAreRefused() throws {
    let (_, layouts) = try DemoFacts.cached.get()
    let facts = KernelBuildFacts(sizeOfImage: 0xE0_4000, symbols: ["KiSystemCall64": 0x40_0000])
    let text = message { _ = try WindowsImageBuilder.demo(build: facts, layouts: layouts) }
    #expect(text?.contains("none of the scenario's variables") == true, "\(text ?? "no error")")
  }

  @Test func sizeOfImageTooSmallForTheVariablesIsRefused() throws {
    var (facts, layouts) = try DemoFacts.cached.get()
    facts.sizeOfImage = 0xC0_0000  // below .data of 10.0.19041 (PsLoadedModuleList at 0xc2a1b0)
    let text = message { _ = try WindowsImageBuilder.demo(build: facts, layouts: layouts) }
    #expect(text?.contains("does not fit SizeOfImage 0xc00000") == true, "\(text ?? "no error")")
  }

  @Test func absurdSizeOfImageIsRefused() throws {
    var (facts, layouts) = try DemoFacts.cached.get()
    facts.sizeOfImage = UInt64.max
    let text = message { _ = try WindowsImageBuilder.demo(build: facts, layouts: layouts) }
    #expect(text?.contains("larger than 1 GiB") == true, "\(text ?? "no error")")
  }

  @Test func missingStructLayoutIsNamed() throws {
    let (facts, layouts) = try DemoFacts.cached.get()
    var partial = layouts
    partial.structs["_EPROCESS"] = nil
    #expect(throws: ImageBuilderError.unknownLayout(structure: "_EPROCESS", field: nil)) {
      _ = try WindowsImageBuilder.demo(build: facts, layouts: partial)
    }
  }

  @Test func symbolPastSizeOfImageIsRefused() {
    let facts = KernelBuildFacts(sizeOfImage: 0x1000, symbols: ["PsLoadedModuleList": 0xC2_A1B0])
    #expect(throws: ImageBuilderError.self) { try facts.rva("PsLoadedModuleList") }
    #expect(throws: ImageBuilderError.self) { try facts.rva("Absent") }
  }
}
