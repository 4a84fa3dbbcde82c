{
  "targets": [
    {
      "target_name": "agentfleet_libvirt",
      "sources": [
        "native/addon.cc",
        "native/connection.cc",
        "native/domain.cc",
        "native/domain_stats.cc",
        "native/errors.cc",
        "native/event_loop.cc",
        "native/lifecycle_events.cc",
        "native/storage.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags libvirt libvirt-qemu)"],
      "libraries": ["<!@(pkg-config --libs libvirt libvirt-qemu)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"]
    }
  ]
}
