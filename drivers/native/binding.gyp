{
  "targets": [
    {
      "target_name": "skyminer_native",
      "sources": ["ioctl.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
