package io.github.pulsaroutbox;

import org.axonframework.eventsourcing.eventstore.AbstractEventStore;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;

import org.axonframework.config.AggregateConfiguration;
import org.axonframework.eventsourcing.EventSourcingRepository;
import org.axonframework.modelling.command.AbstractRepository;
import org.axonframework.modelling.command.Repository;
import org.axonframework.modelling.command.inspection.AggregateModel;

import java.lang.reflect.Method;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Refuses, at startup, event stores that cannot append in the database transaction the outbox rows are written in:
 * Axon Server (events go over gRPC) and any store whose storage engine is not Axon's JPA or JDBC engine. The
 * remaining case, a JPA or JDBC engine on another database than the outbox's, is refused when the first row is
 * captured: the outbox's connection is then not part of the unit of work's transaction.
 */
final class AtomicCaptureCheck {

    private static final String ALTERNATIVES = "Use Axon's JPA or JDBC event store on the outbox's database (in "
            + "Spring Boot: exclude axon-server-connector, or set axon.axonserver.enabled=false, and add a JPA or JDBC "
            + "event store), or the dispatch mode that tails the event store instead of writing an outbox table "
            + "(pulsar-outbox.mode=tailing in Spring Boot, EventStoreTailingModule on plain Axon)";

    private AtomicCaptureCheck() {
    }

    static void verify(EventStore eventStore) {
        String type = eventStore.getClass().getName();
        if (type.startsWith("org.axonframework.axonserver.")) {
            throw new OutboxStartupException(
                    "the event store is Axon Server (" + type + "): events are appended over gRPC, outside "
                            + "the database transaction the outbox rows are written in, so capture could publish "
                            + "events that were never stored, or miss stored ones.", ALTERNATIVES);
        }
        EventStorageEngine engine = eventStore instanceof AbstractEventStore store ? storageEngine(store) : null;
        if (engine == null || !transactional(engine)) {
            throw new OutboxStartupException(
                    "the event store (" + type + (engine == null ? "" : " on " + engine.getClass().getName())
                            + ") does not append in the database transaction the outbox rows are written in, so "
                            + "capture cannot be atomic.", ALTERNATIVES);
        }
    }

    /**
     * Refuses {@link Outbox} where it would capture nothing: on a state-stored aggregate (its events are published
     * without aggregate sequence numbers, so their order could not be kept) and on a subtype of a polymorphic
     * aggregate whose root is not annotated (events carry the root's aggregate type).
     */
    static void verify(AggregateConfiguration<?> aggregate) {
        Class<?> root = aggregate.aggregateType();
        Repository<?> repository = aggregate.repository();
        boolean rootCaptured = root.isAnnotationPresent(Outbox.class);
        for (Class<?> type : aggregateTypes(repository, root)) {
            if (!type.equals(root) && type.isAnnotationPresent(Outbox.class) && !rootCaptured) {
                throw new OutboxStartupException(
                        "@Outbox is on " + type.getName() + ", a subtype of the polymorphic aggregate "
                                + root.getName() + ": its events carry the root's aggregate type, so nothing would "
                                + "be captured.", "Put @Outbox on the root class " + root.getName());
            }
        }
        if (rootCaptured && !(repository instanceof EventSourcingRepository)) {
            throw new OutboxStartupException(
                    root.getName() + " is annotated with @Outbox but is state-stored (repository "
                            + repository.getClass().getName() + "): its events are published without aggregate "
                            + "sequence numbers, so the outbox could not keep their order.",
                    "Event-source the aggregate, or remove @Outbox");
        }
    }

    private static Set<Class<?>> aggregateTypes(Repository<?> repository, Class<?> root) {
        Set<Class<?>> types = new LinkedHashSet<>();
        types.add(root);
        if (repository instanceof AbstractRepository<?, ?>) {
            try {
                Method method = AbstractRepository.class.getDeclaredMethod("aggregateModel");
                method.setAccessible(true);
                AggregateModel<?> model = (AggregateModel<?>) method.invoke(repository);
                model.types().forEach(types::add);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // no model to inspect: only the root is checked
            }
        }
        return types;
    }

    private static boolean transactional(EventStorageEngine engine) {
        if (engine instanceof JdbcEventStorageEngine) {
            return true;
        }
        // JPA engines (jakarta and the legacy javax one), matched by name: JPA is an optional dependency of Axon
        for (Class<?> c = engine.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals("org.axonframework.eventsourcing.eventstore.jpa.JpaEventStorageEngine")
                    || c.getName().equals("org.axonframework.eventsourcing.eventstore.legacyjpa.JpaEventStorageEngine")) {
                return true;
            }
        }
        return false;
    }

    private static EventStorageEngine storageEngine(AbstractEventStore store) {
        try {
            Method method = AbstractEventStore.class.getDeclaredMethod("storageEngine");
            method.setAccessible(true);
            return (EventStorageEngine) method.invoke(store);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
