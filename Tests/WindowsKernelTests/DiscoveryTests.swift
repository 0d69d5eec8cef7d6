// Kernel discovery on every reference image: kernel base, DTB and the kernel's PDB identity must
// equal the truth file's `kernel_base`, `dtb` and `pdb`.

import TestData
import Testing
import WindowsKernel

@Suite struct DiscoveryTests {
  @Test(arguments: KernelFixture.imageNames)
  func discoveryMatchesTruth(_ name: String) throws {
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let image = try #require(fixture.system.kernel)
    #expect(image.base == (try truth.address("kernel_base")))
    #expect(fixture.system.space.rootTable == (try truth.address("dtb")))
    let pdb = try truth.object("pdb")
    #expect(image.pdb.name == pdb["name"] as? String)
    #expect(image.pdb.guid.uppercased() == (pdb["GUID"] as? String)?.uppercased())
    #expect(Int(image.pdb.age) == pdb["age"] as? Int)
    #expect(image.fileVersion == nil || image.fileVersion == truth["build"] as? String)
  }
}
