{
  "targets": [
    {
      "target_name": "ragtune_kernels",
      "sources": ["native/addon.cc", "native/gemm.cc", "native/ops.cc", "native/peak.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "conditions": [
        ["target_arch=='x64'", { "cflags_cc": ["-march=native"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"],
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    }
  ]
}
