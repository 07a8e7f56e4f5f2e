package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import com.datastax.oss.driver.api.core.connection.ClosedConnectionException;
import com.datastax.oss.driver.api.core.connection.FrameTooLongException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.SyntaxError;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.WriteType;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Which failures of the DataStax driver routing parks a record for ({@link CassandraMessageArchive#rejects}):
 * the store refusing the statement, for good, versus the store being slow, down or overloaded
 * (retried with backoff). The exceptions are the driver's own types, as it raises them.
 */
class CassandraFailureClassTest {

  @Test
  void aStatementTheStoreRefusesIsPermanentEvenWhenWrapped() {
    assertThat(CassandraMessageArchive.refusedForGood(new InvalidQueryException(null,
        "Mutation of 17.000MiB is too large for the maximum size of 16.000MiB"))).isTrue();
    assertThat(CassandraMessageArchive.refusedForGood(new SyntaxError(null, "line 1:0 no viable alternative"))).isTrue();
    assertThat(CassandraMessageArchive.refusedForGood(
        new FrameTooLongException(new InetSocketAddress("127.0.0.1", 9042), "frame of 300 MB"))).isTrue();
    assertThat(CassandraMessageArchive.refusedForGood(new IllegalArgumentException("cannot bind value"))).isTrue();
    assertThat(CassandraMessageArchive.refusedForGood(new CompletionException(new InvalidQueryException(null, "bad"))))
        .as("found among the causes").isTrue();
  }

  @Test
  void timeoutsUnavailabilityAndOverloadAreTransient() {
    assertThat(CassandraMessageArchive.refusedForGood(
        new WriteTimeoutException(null, ConsistencyLevel.LOCAL_QUORUM, 0, 1, WriteType.SIMPLE))).isFalse();
    assertThat(CassandraMessageArchive.refusedForGood(new UnavailableException(null, ConsistencyLevel.LOCAL_QUORUM, 1, 0)))
        .isFalse();
    assertThat(CassandraMessageArchive.refusedForGood(new OverloadedException(null))).isFalse();
    assertThat(CassandraMessageArchive.refusedForGood(new DriverTimeoutException("Query timed out after PT10S"))).isFalse();
    assertThat(CassandraMessageArchive.refusedForGood(new NoNodeAvailableException())).isFalse();
    assertThat(CassandraMessageArchive.refusedForGood(new ClosedConnectionException("closed"))).isFalse();
    assertThat(CassandraMessageArchive.refusedForGood(new IllegalStateException("original not readable yet"))).isFalse();
  }
}
