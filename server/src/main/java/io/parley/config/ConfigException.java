package io.parley.config;

/** A bad or missing configuration value; the message names the key. Startup stops on it. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
