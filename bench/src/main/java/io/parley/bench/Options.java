package io.parley.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Minimal command-line parser: a scenario name, positional arguments and {@code --key value},
 * {@code --key=value} or boolean {@code --flag} options. Unknown options are reported as errors.
 */
final class Options {

  /** Options that take no value. */
  private static final Set<String> FLAGS = Set.of("json", "child", "help", "launch");

  final String scenario;
  private final List<String> positional = new ArrayList<>();
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> used = new HashSet<>();

  private Options(String scenario) {
    this.scenario = scenario;
  }

  static Options parse(String[] args) {
    if (args.length == 0) {
      throw new UsageException("missing scenario");
    }
    Options o = new Options(args[0]);
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--")) {
        String key = a.substring(2);
        String value;
        int eq = key.indexOf('=');
        if (eq >= 0) {
          value = key.substring(eq + 1);
          key = key.substring(0, eq);
        } else if (FLAGS.contains(key)) {
          value = "true";
        } else {
          if (i + 1 >= args.length) {
            throw new UsageException("option --" + key + " needs a value");
          }
          value = args[++i];
        }
        o.values.put(key, value);
      } else {
        o.positional.add(a);
      }
    }
    return o;
  }

  String str(String key, String def) {
    used.add(key);
    return values.getOrDefault(key, def);
  }

  boolean flag(String key) {
    used.add(key);
    return Boolean.parseBoolean(values.getOrDefault(key, "false"));
  }

  boolean has(String key) {
    used.add(key);
    return values.containsKey(key);
  }

  int integer(String key, int def) {
    return (int) number(key, def);
  }

  long number(String key, long def) {
    String v = str(key, null);
    if (v == null) {
      return def;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new UsageException("option --" + key + " expects an integer, got '" + v + "'");
    }
  }

  double decimal(String key, double def) {
    String v = str(key, null);
    if (v == null) {
      return def;
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException("option --" + key + " expects a number, got '" + v + "'");
    }
  }

  /** Required option (integer). */
  long requiredNumber(String key) {
    if (!values.containsKey(key)) {
      throw new UsageException("option --" + key + " is required for " + scenario);
    }
    return number(key, 0);
  }

  /** Positional integer argument at index {@code idx} (after the scenario name). */
  long positionalNumber(int idx, String what) {
    if (positional.size() <= idx) {
      throw new UsageException(scenario + " needs " + what);
    }
    try {
      return Long.parseLong(positional.get(idx));
    } catch (NumberFormatException e) {
      throw new UsageException(what + " must be an integer, got '" + positional.get(idx) + "'");
    }
  }

  /** Fails on options nobody asked for (typos) and on stray positional arguments. */
  void checkAllUsed(int positionalCount) {
    for (String k : values.keySet()) {
      if (!used.contains(k)) {
        throw new UsageException("unknown option --" + k + " for scenario " + scenario);
      }
    }
    if (positional.size() > positionalCount) {
      throw new UsageException("unexpected argument '" + positional.get(positionalCount) + "'");
    }
  }

  /** Thrown for bad command lines; leads to the usage text and exit code 2. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String msg) {
      super(msg);
    }
  }
}
