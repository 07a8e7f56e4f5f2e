package io.parley.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Parley's logging, set up in code (a logback {@link Configurator} found through
 * {@code META-INF/services}) instead of a {@code logback.xml}: the XML route loads logback's
 * configuration interpreter and a SAX parser first, about 0.5 s of a start on one core, before the
 * node begins. The output is what the XML gave: the console, {@code HH:mm:ss.SSS LEVEL [thread]
 * logger - message}, then a connection's or request's key-value pairs ({@code user}, {@code device},
 * {@code node}); the root level from {@code PARLEY_LOG_LEVEL}, a system property or the environment
 * (default {@code INFO}); Netty at WARN; a publish racing a consumer's unregistration (a socket
 * closing) not worth a warning. {@code log.format=json} then swaps the encoder ({@link LogFormat}).
 *
 * <p>A configuration of one's own still wins: with {@code -Dlogback.configurationFile=…}, or a
 * {@code logback.xml} or {@code logback-test.xml} on the class path, this steps aside and logback
 * reads that file as usual.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogConfigurator extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%replace( %kvp){'^ $', ''}%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY) != null || resource("logback-test.xml") || resource("logback.xml")) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("STDOUT");
    console.setEncoder(encoder);
    console.start();
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.vertx").setLevel(Level.INFO);
    context.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl").setLevel(Level.ERROR);
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    String level = System.getProperty("PARLEY_LOG_LEVEL", System.getenv("PARLEY_LOG_LEVEL"));
    root.setLevel(Level.toLevel(level, Level.INFO));
    root.addAppender(console);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static boolean resource(String name) {
    return LogConfigurator.class.getClassLoader().getResource(name) != null;
  }
}
