package io.parley.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LogConfigurator}: logback finds it as a service and it sets up the node's logging (the
 * console with the pattern, the levels) without reading any XML; a configuration file named with
 * {@code logback.configurationFile} makes it step aside, and logback then reads that file.
 */
class LogConfiguratorTest {

  @Test
  void logbackIsConfiguredInCodeByDefault() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getAppender("STDOUT")).isInstanceOf(ConsoleAppender.class);
    ConsoleAppender<?> console = (ConsoleAppender<?>) root.getAppender("STDOUT");
    assertThat(console.isStarted()).isTrue();
    assertThat(((PatternLayoutEncoder) console.getEncoder()).getPattern()).isEqualTo(LogConfigurator.PATTERN);
    assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl").getLevel()).isEqualTo(Level.ERROR);
    assertThat(context.getLogger("io.parley.gateway.Session").getEffectiveLevel())
        .isEqualTo(Level.toLevel(System.getenv("PARLEY_LOG_LEVEL"), Level.INFO));
  }

  @Test
  void aConfigurationFileOfOnesOwnWins(@TempDir Path dir) throws Exception {
    Path xml = dir.resolve("mine.xml");
    Files.writeString(xml, """
        <configuration>
          <appender name="MINE" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%msg%n</pattern></encoder>
          </appender>
          <root level="WARN"><appender-ref ref="MINE"/></root>
        </configuration>
        """);
    String before = System.getProperty(ContextInitializer.CONFIG_FILE_PROPERTY);
    System.setProperty(ContextInitializer.CONFIG_FILE_PROPERTY, xml.toString());
    LoggerContext context = new LoggerContext();
    try {
      LogConfigurator configurator = new LogConfigurator();
      configurator.setContext(context);
      assertThat(configurator.configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
      new ContextInitializer(context).autoConfig();
      ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
      assertThat(root.getAppender("STDOUT")).as("the file's appenders only").isNull();
      assertThat(root.getAppender("MINE")).isNotNull();
      assertThat(root.getLevel()).isEqualTo(Level.WARN);
    } finally {
      if (before == null) {
        System.clearProperty(ContextInitializer.CONFIG_FILE_PROPERTY);
      } else {
        System.setProperty(ContextInitializer.CONFIG_FILE_PROPERTY, before);
      }
      context.stop();
    }
  }
}
