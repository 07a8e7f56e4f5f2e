package io.parley.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.history.MessageStore;
import io.parley.routing.MessageArchive;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The timed decorators forward every method of their ports, default methods included: a default
 * left unforwarded runs the port's fallback instead of the adapter's own (the archive's first-attempt
 * skip, the store's takedown), and nothing else would notice.
 */
class MeteredTest {

  @Test
  void everyMethodOfThePortsIsForwarded() {
    MessageArchive archive = Metered.archive(null, null);
    MessageStore store = Metered.store(null, null);
    assertForwardsAll(MessageArchive.class, archive.getClass());
    assertForwardsAll(MessageStore.class, store.getClass());
  }

  private static void assertForwardsAll(Class<?> port, Class<?> decorator) {
    List<Method> instanceMethods = Arrays.stream(port.getMethods())
        .filter(m -> !Modifier.isStatic(m.getModifiers())).toList();
    assertThat(instanceMethods).isNotEmpty();
    for (Method m : instanceMethods) {
      assertThat(declares(decorator, m)).as("%s forwards %s", decorator.getName(), m).isTrue();
    }
  }

  private static boolean declares(Class<?> type, Method m) {
    try {
      type.getDeclaredMethod(m.getName(), m.getParameterTypes());
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
