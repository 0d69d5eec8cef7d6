// WindowsKernel target.
