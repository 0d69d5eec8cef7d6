// `callscope convert IMAGE --to dmp OUT`: writes a 64-bit full crash dump WinDbg opens.

import ArgumentParser
import BinaryReading
import MemoryImage
import Reports
import WindowsKernel

struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Write the image as a 64-bit full Windows crash dump (open it in WinDbg).",
    discussion: """
      The header gets the DTB found by discovery (or given with --dtb), and KdDebuggerDataBlock, \
      PsLoadedModuleList, PsActiveProcessHead and PfnDataBase from the kernel's symbols (or, without \
      a matching symbol file, from its exports and code); a field that cannot be resolved is left 0 \
      with a warning naming it. Every backed physical page is written as a physical-memory run. The \
      file is written to a temporary name and renamed when complete.
      """)

  enum Target: String, ExpressibleByArgument { case dmp }

  @OptionGroup var imageOptions: ImageOptions
  @OptionGroup var symbolOptions: SymbolOptions

  @Option(help: "Output format (only dmp).")
  var to: Target = .dmp

  @Argument(help: "Output file.")
  var out: String

  func run() throws {
    let (memory, system) = try imageOptions.discover()
    guard system.space.mode.pointerSize == 8 else {
      throw ValidationError("convert writes 64-bit dumps; this image uses \(system.space.mode.rawValue) paging")
    }
    guard let kernel = system.kernel else {
      throw ValidationError(system.kernelError?.description ?? "kernel not found; give --kernel-base")
    }
    let build = SharedUserData.version(in: system.space)?.build ?? Self.buildNumber(from: kernel.fileVersion) ?? 0
    // The header's kernel variables come from the profile (symbol file, or exports and code);
    // without one the dump is still written, each unknown field named in a warning.
    var profileKernel: Kernel?
    var profileError: String?
    do {
      let (profile, _) = try ProfileResolution.kernelProfile(
        memory: memory, system: system, image: kernel, options: symbolOptions)
      profileKernel = Kernel(space: system.space, image: kernel, profile: profile)
    } catch {
      profileError = "no kernel profile: \(error)"
    }
    let kernelSymbols = KernelSymbolAddresses.resolve(kernel: profileKernel, profileError: profileError)
    for warning in kernelSymbols.warnings { Terminal.standardError.write("callscope: warning: \(warning)\n") }
    let parameters = CrashDumpWriter.Parameters(
      dtb: system.space.dtb,
      kdDebuggerDataBlock: kernelSymbols.kdDebuggerDataBlock ?? 0,
      psLoadedModuleList: kernelSymbols.psLoadedModuleList ?? 0,
      psActiveProcessHead: kernelSymbols.psActiveProcessHead ?? 0,
      pfnDataBase: kernelSymbols.pfnDataBase ?? 0,
      numberProcessors: 1,
      majorVersion: 0xf,
      minorVersion: build)
    try CrashDumpWriter.writeFull64(from: memory, to: out, header: parameters)
    Terminal.standardError.write(
      "callscope: wrote \(out) (\(memory.ranges.count) run(s), kernel \(Hex.format(kernel.base)))\n")
  }

  private static func buildNumber(from version: String?) -> UInt32? {
    guard let parts = version?.split(separator: "."), parts.count >= 3 else { return nil }
    return UInt32(parts[2])
  }
}
