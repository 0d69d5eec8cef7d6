// Inputs found by the PE fuzz target (Fuzz/Targets/PE.swift), kept as regression tests.

import BinaryReading
import Foundation
import PortableExecutable
import Testing

@Suite struct PEFuzzRegressionTests {
  /// Fuzz finding (timeout, 2.7 s): an exception directory of 0xE020B bytes (76 631 entries) at an RVA
  /// 0x202200EF bytes into a section with 0x1000 bytes of raw data and 2 GiB of virtual size, in a
  /// 553-byte file. The table read as the loader maps it is all zero fill; it was decoded entry by
  /// entry, twice for a lookup. An all-zero entry now ends the table.
  static let zeroFilledExceptionDirectory =
    "TVp4AAEAAAAEAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAgABAAAAAAAAAAAAAAAAAAAAAAAAAAAAeAAAAA4fug4AtAnNIbgBTM0hVGhpcyBwcm9ncmFtIGNhbm5vdCBiZSBydW4gaW4gRE9TIG1vZGUuJAAAUEUAAGSGAwAUExJrAAAAAAAAAADwACIgCwIOAAACAAAAAgAAAAAAAKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKQVAKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpAAAAAAAEAAAAAAAgAEAAAAAAAAAcgAAAAAQAGsAAAAAAAAAAPAAIiALAg4AAAIAAAACAAAAAAAApKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpBUApKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkAAAAAAAQAAAAAACAAQAAAAAQAAAAAgAABgAAAAAAAAAGAAAAAAAAAABAAAAABAAAAAAAAAIAYAEAABAAAAAAAAAQAAAAAAAAAAAQ9/////8AichIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAF0AAAAAAAAAAAAAAAAAAAAAAA=="

  @Test func zeroFilledExceptionDirectoryHoldsNoFunctions() throws {
    let bytes = try #require(Data(base64Encoded: Self.zeroFilledExceptionDirectory))
    let image = try PEImage(source: InMemoryByteSource(Array(bytes)), layout: .file)
    let directory = try #require(image.optionalHeader.directory(.exception))
    #expect(directory.rva == 0x2022_00F0 && directory.size == 0xE_020B)
    #expect(image.sections.first?.virtualSize == 0x8000_0000 && image.sections.first?.sizeOfRawData == 0x1000)
    #expect(try image.exceptionDirectory() == [])
    #expect(try image.runtimeFunction(containing: 0x1000) == nil)
  }
}
