#pragma once
// llmetrics' business analytics (target llmetrics::analytics, which adds
// nlohmann_json): the core umbrella plus the tutorial's custom metrics collector
// (business events, users and satisfaction, model performance, system samples,
// the JSON report and the health score).

#include "llmetrics.hpp"

#include "analytics/history_limits.hpp"
#include "analytics/trend.hpp"
#include "analytics/business_events.hpp"
#include "analytics/user_tracker.hpp"
#include "analytics/model_tracker.hpp"
#include "analytics/system_metrics.hpp"
#include "analytics/system_sampler.hpp"
#include "analytics/health_score.hpp"
#include "analytics/report.hpp"
#include "analytics/analytics_collector.hpp"
