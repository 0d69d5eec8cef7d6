// The KernelCallbackTable every GUI process should point to, from user32's PDB (found through the
// symbol path by the CodeView record of user32 as mapped in a process): `kct` and `watch`.

import AddressSpace
import Callbacks
import PortableExecutable
import Symbols
import WindowsKernel

enum KCTExpectation {
  /// The expectation from user32's PDB: apfnDispatch's address and the __fn* names of its slots.
  static func fromPDB(
    _ gathered: [KernelCallbackTableScanner.Gathered], kernel: Kernel, options symbolOptions: SymbolOptions,
    warnings: inout [String]
  )
    -> ExpectedCallbackTable?
  {
    guard
      let host = gathered.first(where: { $0.user32 != nil && $0.table != 0 })
        ?? gathered.first(where: { $0.user32 != nil }),
      let user32 = host.user32
    else { return nil }
    let space = ProcessList.addressSpace(of: host.process, kernel: kernel)
    let source = VirtualByteSource(
      space: space, base: user32.base, size: user32.size, name: "user32.dll in pid \(host.process.pid)")
    guard let pe = try? PEImage(source: source, layout: .mapped), let cv = try? pe.codeView() else {
      warnings.append("user32.dll's debug directory is not readable; expected table taken from the processes")
      return nil
    }
    let identity = PDBIdentity(name: "user32.pdb", guid: cv.guidString, age: cv.age)
    guard let profile = ProfileResolution.loadOptional(identity: identity, options: symbolOptions),
      let expected = KernelCallbackTableScanner.expected(
        fromPDB: profile, user32: user32, process: host.process, kernel: kernel)
    else {
      warnings.append(
        "user32.pdb \(identity.isfKey) (with apfnDispatch) not found on the symbol path; "
          + "expected table taken from the processes")
      return nil
    }
    return expected
  }
}
