#pragma once
// TEMPORARY forwarding header, removed at merge: time_source now lives in
// core/clock.hpp, and the lead rewrites the includes of instrument/ to it.
#include "../core/clock.hpp"
