{
  # scripts/build-native.mjs decides whether OpenBLAS (pkg-config) and oneDNN (pkg-config or its
  # CMake files) are there and passes -Dvaekit_openblas=true / -Dvaekit_dnnl=true with their flags;
  # without them (or run directly) this builds the portable kernel and no oneDNN products, so
  # configuring never fails for want of pkg-config, OpenBLAS or oneDNN.
  'variables': {
    'vaekit_openblas%': 'false',
    'vaekit_openblas_cflags%': '',
    'vaekit_openblas_libs%': '',
    'vaekit_openblas_rpath%': '',
    'vaekit_dnnl%': 'false',
    'vaekit_dnnl_cflags%': '',
    'vaekit_dnnl_libs%': '',
    'vaekit_dnnl_rpath%': '',
  },
  'targets': [
    {
      'target_name': 'vaekit',
      'sources': [
        'native/addon.cc',
        'native/args.cc',
        'native/gemm.cc',
        'native/matmul.cc',
        'native/dnnl.cc',
        'native/activation.cc',
        'native/reduce.cc',
        'native/elementwise.cc',
        'native/losses.cc',
        'native/latent.cc',
        'native/prior.cc',
        'native/adam.cc',
        'native/parallel.cc',
        'native/noise.cc',
        'native/gather.cc',
        'native/conv.cc',
        'native/softmax.cc',
        'native/recurrent.cc',
        'native/embedding.cc',
        'native/mapped.cc',
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_DISABLE_CPP_EXCEPTIONS',
      ],
      # Plain -O3 with auto-vectorization: no -march=native (the addon must run where it was
      # installed from a cache too) and no -ffast-math (exp, log1p and NaN must behave as IEEE says).
      # -fno-math-errno changes no result; it only lets sqrt vectorize (Adam) instead of calling libm.
      'cflags!': ['-O2', '-O0'],
      'cflags': ['-O3', '-fno-math-errno'],
      'cflags_cc': ['-std=c++17'],
      'xcode_settings': {
        'GCC_OPTIMIZATION_LEVEL': '3',
        'OTHER_CFLAGS': ['-fno-math-errno'],
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      },
      'msvs_settings': {
        'VCCLCompilerTool': { 'Optimization': 2, 'AdditionalOptions': ['/std:c++17'] },
      },
      'conditions': [
        ['vaekit_dnnl=="true"', {
          'defines': ['VAEKIT_DNNL=1'],
          'cflags_cc': ['<@(vaekit_dnnl_cflags)'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<@(vaekit_dnnl_cflags)'] },
          'libraries': ['<@(vaekit_dnnl_libs)'],
          'conditions': [
            ['vaekit_dnnl_rpath!=""', {
              'ldflags': ['-Wl,-rpath,<(vaekit_dnnl_rpath)'],
              'xcode_settings': { 'OTHER_LDFLAGS': ['-Wl,-rpath,<(vaekit_dnnl_rpath)'] },
            }],
          ],
        }],
        ['vaekit_openblas=="true"', {
          'defines': ['VAEKIT_OPENBLAS=1'],
          'cflags_cc': ['<@(vaekit_openblas_cflags)'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<@(vaekit_openblas_cflags)'] },
          'libraries': ['<@(vaekit_openblas_libs)'],
          'conditions': [
            ['vaekit_openblas_rpath!=""', {
              'ldflags': ['-Wl,-rpath,<(vaekit_openblas_rpath)'],
              'xcode_settings': { 'OTHER_LDFLAGS': ['-Wl,-rpath,<(vaekit_openblas_rpath)'] },
            }],
          ],
        }],
      ],
    },
  ],
}
