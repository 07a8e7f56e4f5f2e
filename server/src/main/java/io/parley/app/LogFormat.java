package io.parley.app;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code log.format}: {@code text} keeps the pattern of {@link LogConfigurator} (or of one's own
 * logback.xml); {@code json} gives every appender of the root logger logback's own
 * {@link JsonEncoder}: one JSON object a line with {@code timestamp},
 * {@code level}, {@code threadName}, {@code loggerName}, {@code formattedMessage}, {@code throwable}
 * and {@code kvpList}, where a connection's or request's log lines carry {@code user}, {@code device}
 * and {@code node} (the gateway adds them to each call as slf4j key-value pairs, see
 * {@code gateway.ConnectionLog}: MDC is per thread and an event loop serves thousands of connections).
 * Applied once the configuration is loaded, so the few lines before it are in the text format.
 */
public final class LogFormat {
  /** Each switched appender's pattern encoder, to go back to {@code text}. */
  private static final Map<Appender<ILoggingEvent>, Encoder<ILoggingEvent>> TEXT = new IdentityHashMap<>();

  private LogFormat() {}

  /** Switches the root logger's stream appenders to {@code format} ({@code text} or {@code json}). */
  public static synchronized void apply(String format) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return; // another slf4j binding: its own configuration decides
    }
    boolean json = "json".equals(format);
    for (Iterator<Appender<ILoggingEvent>> it = context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders(); it.hasNext(); ) {
      if (!(it.next() instanceof OutputStreamAppender<ILoggingEvent> appender)) {
        continue;
      }
      boolean isJson = appender.getEncoder() instanceof JsonEncoder;
      if (json && !isJson) {
        TEXT.put(appender, appender.getEncoder());
        swap(appender, jsonEncoder(context));
      } else if (!json && isJson && TEXT.containsKey(appender)) {
        swap(appender, TEXT.remove(appender));
      }
    }
  }

  /** The JSON encoder {@code log.format=json} uses: no sequence numbers, nanoseconds or raw templates. */
  static JsonEncoder jsonEncoder(LoggerContext context) {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.setWithContext(false);
    encoder.setWithMessage(false);
    encoder.setWithArguments(false);
    encoder.setWithFormattedMessage(true);
    encoder.start();
    return encoder;
  }

  /**
   * Replaces a running appender's encoder. Not by stop and start: stopping a stream appender closes
   * its stream, and only the console's start opens it again. Neither encoder writes a header.
   */
  private static void swap(OutputStreamAppender<ILoggingEvent> appender, Encoder<ILoggingEvent> encoder) {
    appender.setEncoder(encoder);
  }
}
