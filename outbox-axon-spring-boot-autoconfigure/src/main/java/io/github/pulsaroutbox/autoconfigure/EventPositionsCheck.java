package io.github.pulsaroutbox.autoconfigure;

import jakarta.persistence.EntityManagerFactory;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventsourcing.eventstore.jpa.DomainEventEntry;
import org.axonframework.eventsourcing.eventstore.jpa.JpaEventStorageEngine;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.generator.Generator;
import org.hibernate.id.enhanced.NoopOptimizer;
import org.hibernate.id.enhanced.Optimizer;
import org.hibernate.id.enhanced.SequenceStyleGenerator;
import org.hibernate.persister.entity.EntityPersister;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

import java.util.Optional;

/**
 * The tailing mode publishes an aggregate's events in the order of the event stream, so the stream's positions must
 * follow each aggregate's sequence. Axon's JPA event store on Hibernate takes {@code global_index} from a sequence; with
 * a pooled optimizer (Hibernate's default) each instance takes blocks of values, and with several instances appending
 * an aggregate's later event can get a lower position than its earlier one. This check refuses such a store when the
 * application starts, unless {@code pulsar-outbox.tailing.allow-pooled-positions=true} says a single instance appends.
 * Other stores (Axon's JDBC engine on an identity column, Axon Server) are not checked.
 */
final class EventPositionsCheck implements SmartInitializingSingleton {

    static final String PROPERTY = "pulsar-outbox.tailing.allow-pooled-positions";

    private final ObjectProvider<EventStorageEngine> engine;
    private final ObjectProvider<EntityManagerFactory> entityManagerFactory;
    private final boolean allowPooled;

    EventPositionsCheck(ObjectProvider<EventStorageEngine> engine,
                        ObjectProvider<EntityManagerFactory> entityManagerFactory, boolean allowPooled) {
        this.engine = engine;
        this.entityManagerFactory = entityManagerFactory;
        this.allowPooled = allowPooled;
    }

    @Override
    public void afterSingletonsInstantiated() {
        if (allowPooled || !(engine.getIfAvailable() instanceof JpaEventStorageEngine)) {
            return;
        }
        EntityManagerFactory factory = entityManagerFactory.getIfAvailable();
        if (factory == null) {
            return;
        }
        pooledBlocks(factory).ifPresent(blocks -> {
            throw new InvalidConfigurationPropertyValueException(
                    PROPERTY, false, "Axon's JPA event store takes global_index from a pooled sequence (" + blocks
                            + "): with several instances appending, an aggregate's later event can get a lower "
                            + "position than its earlier one, and the tailing mode would publish it first. Set "
                            + "spring.jpa.properties.hibernate.id.optimizer.pooled.preferred=none (one sequence call "
                            + "per event), or use the outbox-table mode (pulsar-outbox.mode=outbox-table), or set "
                            + PROPERTY + "=true if a single instance appends events");
        });
    }

    /** How the event entries' positions are allocated in blocks, if they are; empty when each is its own. */
    static Optional<String> pooledBlocks(EntityManagerFactory factory) {
        SessionFactoryImplementor sessionFactory;
        try {
            sessionFactory = factory.unwrap(SessionFactoryImplementor.class);
        } catch (RuntimeException e) {
            return Optional.empty(); // not Hibernate
        }
        EntityPersister persister = sessionFactory.getMappingMetamodel()
                                                  .findEntityDescriptor(DomainEventEntry.class);
        if (persister == null) {
            return Optional.empty();
        }
        Generator generator = persister.getGenerator();
        if (generator instanceof SequenceStyleGenerator sequence) {
            Optimizer optimizer = sequence.getOptimizer();
            if (!(optimizer instanceof NoopOptimizer) && optimizer.getIncrementSize() > 1) {
                return Optional.of(optimizer.getClass().getSimpleName() + ", blocks of "
                                           + optimizer.getIncrementSize());
            }
        }
        return Optional.empty();
    }
}
