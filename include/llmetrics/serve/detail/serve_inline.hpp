#pragma once
// Compiled or header-only serve. By default the Beast/Asio code of the exposer and
// the Pushgateway client is compiled once, into the llmetrics::serve library
// (src/serve/*.cpp), and the public serve headers declare it only. Define
// LLMETRICS_SERVE_HEADER_ONLY (before any llmetrics include, in every translation
// unit of the program) to include the implementation inline instead; then the
// program needs Boost.Beast/Asio headers and zlib, and must not also link the
// compiled library.

#ifdef LLMETRICS_SERVE_HEADER_ONLY
#define LLMETRICS_SERVE_INLINE inline
#else
#define LLMETRICS_SERVE_INLINE
#endif
