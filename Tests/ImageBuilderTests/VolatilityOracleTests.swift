// Volatility 3 (an independent reader) finds the scenario's DTB with its self-reference scan and the
// kernel with its PDB scan, and names the PDB the builder planted. Offline: it cannot fetch symbols,
// so only its automagic stages are compared (their debug lines), not a plugin's output.
// Volatility writes a symbol file it fails to fetch into the FIRST symbol directory (and deletes it
// after), so it gets a private empty symbol directory and cache; never point -s at shared data.

import Foundation
import ImageBuilder
import TestData
import Testing

struct VolatilityOracleTests {
  @Test func volatilityFindsTheDTBKernelBaseAndPDB() throws {
    let builder = try WindowsImageBuilder(.init(seed: 11))
    let path = try Oracles.temporaryPath("vol.raw")
    try builder.writeRaw(to: path)
    let scratch = try TestData.temporaryDirectory("vol")
    let symbols = scratch.appendingPathComponent("symbols").path
    let cache = scratch.appendingPathComponent("cache").path
    for directory in [symbols, cache] {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    let result = try TestData.run(
      "/usr/bin/env",
      ["vol", "-q", "--offline", "-vv", "-s", symbols, "--cache-path", cache, "-f", path, "windows.info"])
    let log = result.stdout + result.stderr
    let truth = builder.truth
    #expect(log.contains("DTB was found at: 0x\(String(truth.dtb, radix: 16))"), "\(log.suffix(2000))")
    // Volatility reports the kernel offset without the sign-extension bits.
    let offset = truth.kernelBase & 0x0000_FFFF_FFFF_FFFF
    #expect(log.contains("Setting kernel_virtual_offset to 0x\(String(offset, radix: 16))"))
    // The symbol-store key it asks for: PDB name, GUID in store order, age in hex.
    #expect(
      log.contains("/ntkrnlmp.pdb/\(truth.pdb.guid)\(String(truth.pdb.age, radix: 16).uppercased())/ntkrnlmp.pdb"))
  }
}
