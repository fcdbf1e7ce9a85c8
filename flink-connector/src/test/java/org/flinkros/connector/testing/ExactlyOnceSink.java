/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package org.flinkros.connector.testing;

import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A two-phase-commit sink into a static list (tests run on a MiniCluster in their JVM): records
 * become visible only when the checkpoint (or, in BATCH, the end of input) that covers them
 * commits, so replays after a failover never show up twice.
 */
public final class ExactlyOnceSink<T> implements Sink<T>, SupportsCommitter<String> {
    private static final long serialVersionUID = 1L;

    private static final Map<String, List<Object>> COMMITTED = new ConcurrentHashMap<>();
    private static final Map<String, List<Object>> STAGED = new ConcurrentHashMap<>();

    private final String id;

    public ExactlyOnceSink(String id) {
        this.id = id;
        COMMITTED.put(id, Collections.synchronizedList(new ArrayList<>()));
    }

    /** What the sink with this id committed. */
    @SuppressWarnings("unchecked")
    public static <T> List<T> committed(String id) {
        List<Object> committed = COMMITTED.get(id);
        synchronized (committed) {
            return new ArrayList<>((List<T>) (List<?>) committed);
        }
    }

    @Override
    public CommittingSinkWriter<T, String> createWriter(WriterInitContext context) {
        return new CommittingSinkWriter<T, String>() {
            private List<Object> buffer = new ArrayList<>();

            @Override
            public void write(T element, Context context) {
                buffer.add(element);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public Collection<String> prepareCommit() {
                if (buffer.isEmpty()) {
                    return Collections.emptyList();
                }
                String transaction = UUID.randomUUID().toString();
                STAGED.put(transaction, buffer);
                buffer = new ArrayList<>();
                return Collections.singleton(transaction);
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public Committer<String> createCommitter(CommitterInitContext context) {
        List<Object> target = COMMITTED.get(id);
        return new Committer<String>() {
            @Override
            public void commit(Collection<CommitRequest<String>> requests) {
                for (CommitRequest<String> request : requests) {
                    List<Object> staged = STAGED.remove(request.getCommittable());
                    if (staged == null) {
                        request.signalAlreadyCommitted();
                    } else {
                        target.addAll(staged);
                    }
                }
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public SimpleVersionedSerializer<String> getCommittableSerializer() {
        return new SimpleVersionedSerializer<String>() {
            @Override
            public int getVersion() {
                return 1;
            }

            @Override
            public byte[] serialize(String transaction) {
                return transaction.getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public String deserialize(int version, byte[] serialized) {
                return new String(serialized, StandardCharsets.UTF_8);
            }
        };
    }
}
