package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.ForeignMessages;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.sql.init.DatabaseInitializationMode;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The receiving side, prefix {@code pulsar-outbox.receiving}: Pulsar topics as Axon message sources, and the inbox.
 * Immutable.
 *
 * @param sources per source bean name, the source: bind it to a processor with
 *                {@code axon.eventhandling.processors.<processor>.source=<name>}
 * @param types   {@code ce_type} to the class its payload is read as, e.g.
 *                {@code pulsar-outbox.receiving.types.OrderPlaced=com.acme.billing.OrderPlaced}
 * @param inbox   the inbox that applies each event once per processor
 * @param lagInterval how often the lag per partition is read from the broker's statistics (with Micrometer and Spring
 *                for Apache Pulsar's administration); positive
 */
@ConfigurationProperties(ReceivingProperties.PREFIX)
public record ReceivingProperties(Map<String, Source> sources,
                                  Map<String, String> types,
                                  @DefaultValue Inbox inbox,
                                  @DefaultValue("30s") Duration lagInterval) {

    /** The prefix of the receiving side's properties. */
    public static final String PREFIX = "pulsar-outbox.receiving";

    public ReceivingProperties {
        sources = sources == null ? Map.of() : Map.copyOf(sources);
        types = types == null ? Map.of() : Map.copyOf(types);
    }

    /** What a source bean offers processors. */
    public enum SourceMode {
        /** For tracking and pooled streaming processors: positions in the processor's token store (default). */
        STREAMABLE,
        /** For subscribing processors: a {@code Key_Shared} subscription on the broker. */
        SUBSCRIBABLE
    }

    /**
     * One source.
     *
     * @param topics          the topics it reads (at least one)
     * @param mode            {@code streamable} (default) or {@code subscribable}
     * @param subscription    the subscription of a subscribable source, shared by the service's replicas (default:
     *                        the source's name)
     * @param foreignMessages what a subscribable source does with messages that are not events this service reads:
     *                        {@code skip} (default) or {@code hold}; a streamable source skips them
     * @param partitionCheckInterval how often a streamable source's open streams look for partitions added to the
     *                        topics (default 30s), then read them from their earliest message
     */
    public record Source(List<String> topics,
                         @DefaultValue("streamable") SourceMode mode,
                         String subscription,
                         @DefaultValue("skip") ForeignMessages foreignMessages,
                         @DefaultValue("30s") Duration partitionCheckInterval) {

        public Source {
            topics = topics == null ? List.of() : List.copyOf(topics);
        }
    }

    /**
     * The inbox.
     *
     * @param processors        the processors whose handlers apply each event once (an {@code InboxInterceptor} each)
     * @param table             the inbox table, optionally schema-qualified
     * @param initializeSchema  when to create the table at startup: {@code embedded} (default), {@code always},
     *                          {@code never}
     * @param retention         how long an event's record is kept: longer than a message can be delivered again
     *                          (the topics' retention)
     * @param retentionInterval how often old records are removed (in batches of 1,000)
     */
    public record Inbox(List<String> processors,
                        @DefaultValue(JdbcInbox.DEFAULT_TABLE) String table,
                        @DefaultValue("embedded") DatabaseInitializationMode initializeSchema,
                        @DefaultValue("7d") Duration retention,
                        @DefaultValue("1m") Duration retentionInterval) {

        public Inbox {
            processors = processors == null ? List.of() : List.copyOf(processors);
        }
    }
}
