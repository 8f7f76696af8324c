package io.github.pulsaroutbox;

import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.relay.EntryUpcaster;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.SegmentClaims;
import io.github.pulsaroutbox.retention.OutboxRetention;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.upcasting.AxonEntryUpcaster;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.upcasting.event.EventUpcasterChain;

import java.time.Clock;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What an {@link OutboxConfigurerModule} runs, wired from its builder: the relay (with segment claims unless turned
 * off), the operator's actions (when the store supports them) and the retention job (when enabled).
 *
 * @param relay      the relay
 * @param operations the operator's actions, or {@code null} when the store has no {@link OutboxMaintenance}
 * @param retention  the retention job, or {@code null} when not enabled
 */
record ModuleParts(OutboxRelay relay, OutboxOperations operations, OutboxRetention retention) {

    /**
     * @param captured   the aggregates being captured (known once the module started)
     * @param upcaster   what brings rows to their current version (known once the module started)
     * @param tokenStore the token store the segments are claimed in (known once the relay started)
     */
    static ModuleParts wire(OutboxConfigurerModule.Builder builder, Supplier<CapturedAggregates> captured,
                            Supplier<EntryUpcaster> upcaster, Supplier<TokenStore> tokenStore) {
        OutboxRelay.Builder relayBuilder = OutboxRelay.builder()
                                                      .store(builder.store)
                                                      .publisher(builder.publisher)
                                                      .topicResolver(builder.topicResolver)
                                                      .capturedAggregates(captured)
                                                      .transactionManager(builder.transactionManager)
                                                      .failurePolicy(builder.failurePolicy)
                                                      .upcaster(upcaster)
                                                      .metrics(builder.metrics);
        if (builder.segmentClaims) {
            SegmentClaims.Builder claims = SegmentClaims.builder()
                                                        .tokenStore(tokenStore)
                                                        .transactionManager(builder.transactionManager)
                                                        .segmentCount(builder.store.segmentCount());
            if (builder.store instanceof OutboxNodes nodes) {
                claims.nodes(nodes);
            }
            builder.claimsCustomizer.accept(claims);
            relayBuilder.segmentClaims(claims.build());
        }
        builder.relayCustomizer.accept(relayBuilder);
        OutboxRelay relay = relayBuilder.build();
        OutboxMaintenance maintenance = builder.maintenance != null ? builder.maintenance
                : builder.store instanceof OutboxMaintenance m ? m : null;
        OutboxOperations operations = maintenance == null ? null : new OutboxOperations(
                maintenance, builder.transactionManager, relay::rescan, builder.metrics, Clock.systemUTC());
        OutboxRetention retention = null;
        if (builder.retentionEnabled && maintenance != null) {
            OutboxRetention.Builder retentionBuilder = OutboxRetention.builder()
                                                                      .maintenance(maintenance)
                                                                      .transactionManager(builder.transactionManager)
                                                                      .metrics(builder.metrics);
            builder.retentionCustomizer.accept(retentionBuilder);
            retention = retentionBuilder.build();
        }
        return new ModuleParts(relay, operations, retention);
    }

    /** What brings rows to their current version: the application's event-store upcasters, then the outbox-only ones. */
    static EntryUpcaster upcaster(Serializer serializer, EventUpcasterChain applicationUpcasters,
                                  Consumer<AxonEntryUpcaster.Builder> customizer) {
        AxonEntryUpcaster.Builder builder = AxonEntryUpcaster.builder().serializer(serializer);
        if (applicationUpcasters != null) {
            builder.upcaster(applicationUpcasters);
        }
        customizer.accept(builder);
        return builder.build();
    }
}
