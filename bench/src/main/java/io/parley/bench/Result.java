package io.parley.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Outcome of one scenario run: ordered scalar metrics, latency histograms (values in
 * microseconds), failure reasons and notes. Renders itself as a text table or as JSON.
 */
final class Result {
  static final double[] PERCENTILES = {50, 90, 99, 99.9};

  final String scenario;
  final Map<String, Object> metrics = new LinkedHashMap<>();
  final Map<String, Histogram> histograms = new LinkedHashMap<>();
  final List<String> failures = new ArrayList<>();
  final List<String> notes = new ArrayList<>();
  String plotFile;

  Result(String scenario) {
    this.scenario = scenario;
  }

  Result put(String key, Object value) {
    metrics.put(key, value);
    return this;
  }

  Result histogram(String name, Histogram h) {
    histograms.put(name, h);
    return this;
  }

  void fail(String reason) {
    failures.add(reason);
  }

  boolean failed() {
    return !failures.isEmpty();
  }

  static double ms(long micros) {
    return micros / 1000.0;
  }

  static double round(double v, int decimals) {
    double f = Math.pow(10, decimals);
    return Math.round(v * f) / f;
  }

  JsonObject toJson() {
    JsonObject j = new JsonObject().put("scenario", scenario);
    JsonObject m = new JsonObject();
    metrics.forEach(m::put);
    j.put("metrics", m);
    JsonObject lat = new JsonObject();
    histograms.forEach((name, h) -> {
      JsonObject hj = new JsonObject().put("count", h.getTotalCount());
      if (h.getTotalCount() > 0) {
        hj.put("mean_ms", round(h.getMean() / 1000.0, 3));
        for (double p : PERCENTILES) {
          hj.put("p" + pct(p) + "_ms", ms(h.getValueAtPercentile(p)));
        }
        hj.put("max_ms", ms(h.getMaxValue()));
      }
      lat.put(name, hj);
    });
    j.put("latency", lat);
    j.put("passed", !failed());
    j.put("failures", new JsonArray(failures));
    j.put("notes", new JsonArray(notes));
    if (plotFile != null) {
      j.put("plot", plotFile);
    }
    return j;
  }

  private static String pct(double p) {
    return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p).replace('.', '_');
  }

  void printTable(PrintStream out) {
    out.println();
    out.println("== parley bench: " + scenario + " ==");
    int w = 8;
    for (String k : metrics.keySet()) {
      w = Math.max(w, k.length());
    }
    for (Map.Entry<String, Object> e : metrics.entrySet()) {
      out.printf(Locale.ROOT, "  %-" + w + "s  %s%n", e.getKey(), format(e.getValue()));
    }
    if (!histograms.isEmpty()) {
      int hw = 10;
      for (String k : histograms.keySet()) {
        hw = Math.max(hw, k.length());
      }
      out.println();
      out.printf(Locale.ROOT, "  %-" + hw + "s %10s %9s %9s %9s %9s %9s %9s%n",
          "latency(ms)", "count", "mean", "p50", "p90", "p99", "p99.9", "max");
      String nameFmt = "  %-" + hw + "s";
      histograms.forEach((name, h) -> {
        if (h.getTotalCount() == 0) {
          out.printf(Locale.ROOT, nameFmt + " %10d%n", name, 0);
          return;
        }
        out.printf(Locale.ROOT, nameFmt + " %10d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f%n", name,
            h.getTotalCount(), h.getMean() / 1000.0,
            ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
            ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()));
      });
    }
    if (plotFile != null) {
      out.println();
      out.println("  plot: " + plotFile);
    }
    for (String n : notes) {
      out.println("  note: " + n);
    }
    out.println();
    out.println(failed() ? "RESULT: FAIL (" + String.join("; ", failures) + ")" : "RESULT: PASS");
  }

  private static String format(Object v) {
    if (v instanceof Double) {
      return String.format(Locale.ROOT, "%.2f", (Double) v);
    }
    return String.valueOf(v);
  }
}
