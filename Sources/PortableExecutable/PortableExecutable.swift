// PortableExecutable target.
