package io.github.pulsaroutbox.pulsar;

import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.FailureKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.github.pulsaroutbox.OutboxEntry;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;
import org.mockito.Answers;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

class PulsarOutboxPublisherTest {

    private final PulsarOutboxPublisher publisher =
            PulsarOutboxPublisher.builder().pulsarClient(mock(PulsarClient.class)).build();

    @Test
    void classifiesPulsarFailuresByWhatRetryingCanDo() {
        assertThat(publisher.classify(new PulsarClientException.TimeoutException("slow")))
                .isEqualTo(FailureKind.TIMEOUT);
        // an expired token or a permission granted a moment later: retried for a bounded time, then parked
        assertThat(publisher.classify(new CompletionException(
                new PulsarClientException.AuthorizationException("no"))))
                .isEqualTo(FailureKind.NOT_AUTHORIZED);
        assertThat(publisher.classify(new PulsarClientException.AuthenticationException("who")))
                .isEqualTo(FailureKind.NOT_AUTHORIZED);
        assertThat(FailureKind.NOT_AUTHORIZED.isRetryable()).isTrue();
        assertThat(publisher.classify(new PulsarClientException.TopicTerminatedException("done")))
                .isEqualTo(FailureKind.REFUSED);
        assertThat(publisher.classify(new PulsarClientException.TopicDoesNotExistException("gone")))
                .isEqualTo(FailureKind.UNKNOWN_TOPIC);
        // a lookup answering "not found" while a namespace bundle moves: retried for a bounded time, not parked at once
        assertThat(publisher.classify(new CompletionException(
                new PulsarClientException.NotFoundException("Namespace bundle is being unloaded"))))
                .isEqualTo(FailureKind.NOT_FOUND);
        assertThat(FailureKind.NOT_FOUND.isRetryable()).isTrue();
        assertThat(FailureKind.NOT_FOUND.isRetriedUntilResolved()).isFalse();
        assertThat(publisher.classify(new PulsarClientException.InvalidMessageException(
                "Message size is bigger than 5242880 bytes")))
                .isEqualTo(FailureKind.MESSAGE_TOO_LARGE);
        assertThat(publisher.classify(new PulsarClientException.InvalidMessageException(
                "The producer p of the topic t sends a message with 6000000 bytes that exceeds 5242880 bytes")))
                .isEqualTo(FailureKind.MESSAGE_TOO_LARGE);
        assertThat(publisher.classify(new PulsarClientException.InvalidMessageException("bad key")))
                .isEqualTo(FailureKind.REFUSED);
        // another node's producer still holds the segment's name: retried until the broker lets go of it
        assertThat(publisher.classify(new PulsarClientException.ProducerBusyException("name in use")))
                .isEqualTo(FailureKind.UNAVAILABLE);
        // the broker cannot be reached: retried until it is back
        assertThat(publisher.classify(new PulsarClientException.ConnectException("reset")))
                .isEqualTo(FailureKind.UNAVAILABLE);
        assertThat(publisher.classify(new PulsarClientException.LookupException("no broker")))
                .isEqualTo(FailureKind.UNAVAILABLE);
        // no room in the client (never blocking the sending thread): retried until there is, never parked
        assertThat(publisher.classify(new PulsarClientException.ProducerQueueIsFullError("full")))
                .isEqualTo(FailureKind.BUSY);
        assertThat(publisher.classify(new PulsarClientException.MemoryBufferIsFullError("memory limit")))
                .isEqualTo(FailureKind.BUSY);
        assertThat(FailureKind.BUSY.isRetriedUntilResolved()).isTrue();
        assertThat(FailureKind.BUSY.mayHaveBeenStored()).as("never left the client: a new id when retried").isFalse();
    }

    /**
     * What a real client raises when no broker answers (nothing listens on the port, or the host does not resolve):
     * an outage, retried until the broker is back, never a reason to park a row.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pulsar://127.0.0.1:%d", "http://127.0.0.1:%d", "pulsar://no-such-host.invalid:%d"})
    void anUnreachableBrokerIsAnOutageNeverARefusal(String url) throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort(); // closed again: nothing listens there
        }
        try (PulsarClient client = PulsarClient.builder().serviceUrl(String.format(url, port))
                                               .operationTimeout(3, java.util.concurrent.TimeUnit.SECONDS)
                                               .lookupTimeout(3, java.util.concurrent.TimeUnit.SECONDS)
                                               .connectionTimeout(1, java.util.concurrent.TimeUnit.SECONDS)
                                               .build()) {
            PulsarOutboxPublisher real = PulsarOutboxPublisher.builder().pulsarClient(client)
                                                              .sendTimeout(Duration.ofSeconds(3)).build();
            Throwable failure = real.prepare("persistent://public/default/unreachable")
                                    .handle((ok, error) -> error).get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(failure).as("creating a producer without a broker").isNotNull();
            assertThat(real.classify(failure)).as("%s", failure).isIn(FailureKind.UNAVAILABLE, FailureKind.TIMEOUT);
            assertThat(real.classify(failure).isRetriedUntilResolved()).isTrue();
        }
    }

    @Test
    void aProducerClosedOrFencedUnderTheRelayIsAnOutageOfThatProducer() {
        // the relay opens the session again (and asks the broker what it stored), instead of counting attempts
        assertThat(publisher.classify(new PulsarClientException.AlreadyClosedException("closed")))
                .isEqualTo(FailureKind.UNAVAILABLE);
        assertThat(publisher.classify(new CompletionException(
                new PulsarClientException.ProducerFencedException("fenced"))))
                .isEqualTo(FailureKind.UNAVAILABLE);
        assertThat(publisher.classify(new PulsarClientException(new java.net.ConnectException("Connection refused"))))
                .isEqualTo(FailureKind.UNAVAILABLE);
        assertThat(publisher.classify(new PulsarClientException(new java.net.UnknownHostException("nowhere"))))
                .isEqualTo(FailureKind.UNAVAILABLE);
    }

    @Test
    void producerThatWasClosedOrFencedIsReplacedForTheNextSend() throws Exception {
        PulsarClient client = mock(PulsarClient.class);
        ProducerBuilder<byte[]> builder = producerBuilder(client);
        Producer<byte[]> fenced = producer(CompletableFuture.failedFuture(
                new PulsarClientException.ProducerFencedException("another producer took over")));
        Producer<byte[]> fresh = producer(CompletableFuture.completedFuture(MessageId.earliest));
        when(builder.createAsync()).thenReturn(CompletableFuture.completedFuture(fenced),
                                               CompletableFuture.completedFuture(fresh));
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build();

        assertThat(publisher.publish(entry(), "t")).isCompletedExceptionally();
        assertThat(publisher.publish(entry(), "t").join()).isEqualTo(MessageId.earliest);
        verify(builder, times(2)).createAsync();
        verify(fenced).closeAsync();
    }

    @Test
    void aTransientFailureKeepsTheProducer() throws Exception {
        PulsarClient client = mock(PulsarClient.class);
        ProducerBuilder<byte[]> builder = producerBuilder(client);
        Producer<byte[]> producer = producer(CompletableFuture.failedFuture(
                new PulsarClientException.TimeoutException("slow")));
        when(builder.createAsync()).thenReturn(CompletableFuture.completedFuture(producer));
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build();

        publisher.publish(entry(), "t");
        publisher.publish(entry(), "t");
        verify(builder, times(1)).createAsync();
        verify(producer, never()).closeAsync();
    }

    @Test
    void producerCreationNeverBlocksAndAFailedOneIsRememberedUntilItMayBeTriedAgain() {
        PulsarClient client = mock(PulsarClient.class);
        ProducerBuilder<byte[]> builder = producerBuilder(client);
        CompletableFuture<Producer<byte[]>> hanging = new CompletableFuture<>();
        when(builder.createAsync()).thenReturn(hanging);
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build();

        // a lookup that hangs: the send is pending, the caller is not held
        CompletableFuture<?> first = publisher.publish(entry(), "t");
        CompletableFuture<?> second = publisher.publish(entry(), "t");
        assertThat(first).isNotDone();
        assertThat(second).isNotDone();
        verify(builder, times(1)).createAsync();

        // it fails: both sends fail with its failure, and the next sends fail at once without asking the broker again
        hanging.completeExceptionally(new PulsarClientException.LookupException("no broker for the bundle"));
        assertThat(first).isCompletedExceptionally();
        assertThat(second).isCompletedExceptionally();
        CompletableFuture<?> third = publisher.publish(entry(), "t");
        assertThat(third).isCompletedExceptionally();
        assertThat(publisher.classify(third.handle((r, e) -> e).join())).isEqualTo(FailureKind.UNAVAILABLE);
        verify(builder, times(1)).createAsync();
    }

    @Test
    @SuppressWarnings("unchecked")
    void listedMetadataIsSentAsPropertiesTheRestStaysInside() {
        PulsarClient client = mock(PulsarClient.class);
        ProducerBuilder<byte[]> builder = producerBuilder(client);
        Producer<byte[]> producer = producer(CompletableFuture.completedFuture(MessageId.earliest));
        when(builder.createAsync()).thenReturn(CompletableFuture.completedFuture(producer));
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client)
                .propertiesCustomizer((entry, properties) -> properties.put("x-tenant", "acme"))
                .build();
        OutboxEntry entry = OutboxEntry.pending("id-1", Instant.now(), "com.acme.sales.OrderEvents$OrderPlaced",
                                                "Order", "o-1", 0, "{}",
                                                "{\"correlationId\":\"c-1\",\"traceId\":\"m-9\",\"secret\":\"s\","
                                                        + "\"attempt\":3}", "0", null);

        publisher.publish(entry, "t").join();

        org.mockito.ArgumentCaptor<Map<String, String>> sent = org.mockito.ArgumentCaptor.forClass(Map.class);
        verify(producer.newMessage()).properties(sent.capture());
        assertThat(sent.getValue()).containsEntry(OutboxMessageProperties.CORRELATION_ID, "c-1")
                                   .containsEntry(OutboxMessageProperties.CAUSATION_ID, "m-9")
                                   .containsEntry(OutboxMessageProperties.TYPE, "OrderPlaced")
                                   .containsEntry("x-tenant", "acme")
                                   .doesNotContainValue("s");
        assertThatThrownBy(() -> PulsarOutboxPublisher.builder().metadataProperties(Map.of("k", "ce_id")))
                .isInstanceOf(AxonConfigurationException.class);
    }

    @Test
    void aRefusedCreationIsAskedAgainAtTheNextSend() {
        PulsarClient client = mock(PulsarClient.class);
        ProducerBuilder<byte[]> builder = producerBuilder(client);
        Producer<byte[]> producer = producer(CompletableFuture.completedFuture(MessageId.earliest));
        when(builder.createAsync()).thenReturn(
                CompletableFuture.failedFuture(new PulsarClientException.TopicDoesNotExistException("no namespace")),
                CompletableFuture.completedFuture(producer));
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build();

        // the row parks; an operator creates the namespace and retries it: the retry is not refused from memory
        assertThat(publisher.publish(entry(), "t")).isCompletedExceptionally();
        assertThat(publisher.publish(entry(), "t").join()).isEqualTo(MessageId.earliest);
        verify(builder, times(2)).createAsync();
    }

    @Test
    void sendTimeoutOfZeroMeansNoneAndTheRelayMustWaitLongerThanAnyOther() {
        PulsarOutboxPublisher none = PulsarOutboxPublisher.builder().pulsarClient(mock(PulsarClient.class))
                                                          .sendTimeout(Duration.ZERO).build();
        assertThat(none.sendTimeout()).isEmpty();
        assertThat(publisher.sendTimeout()).contains(Duration.ofSeconds(30));
        assertThatThrownBy(() -> PulsarOutboxPublisher.builder().sendTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(AxonConfigurationException.class);
    }

    @SuppressWarnings("unchecked")
    private static ProducerBuilder<byte[]> producerBuilder(PulsarClient client) {
        ProducerBuilder<byte[]> builder = mock(ProducerBuilder.class, Answers.RETURNS_SELF);
        when(client.newProducer(Schema.BYTES)).thenReturn(builder);
        return builder;
    }

    @SuppressWarnings("unchecked")
    private static Producer<byte[]> producer(CompletableFuture<MessageId> sendResult) {
        Producer<byte[]> producer = mock(Producer.class);
        TypedMessageBuilder<byte[]> message = mock(TypedMessageBuilder.class, Answers.RETURNS_SELF);
        when(message.sendAsync()).thenReturn(sendResult);
        when(producer.newMessage()).thenReturn(message);
        when(producer.isConnected()).thenReturn(true);
        when(producer.closeAsync()).thenReturn(CompletableFuture.completedFuture(null));
        return producer;
    }

    private static OutboxEntry entry() {
        return OutboxEntry.pending("id-" + System.nanoTime(), Instant.now(), "Evt", "Order", "o-1", 0, "{}", "{}",
                                   "0", null);
    }

    @Test
    void requiresAClient() {
        assertThatThrownBy(() -> PulsarOutboxPublisher.builder().build())
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("PulsarClient");
    }
}
